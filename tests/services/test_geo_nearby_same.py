"""`geo.nearby` in one statement (issue 18) finds exactly what the five statements before it did,
on a random world: points around a few spots, every status, confidential tickets, assists (协办)
and holds (下派), for each role, at random points, radii, categories and excluded tickets."""

from __future__ import annotations

import math
import random
from datetime import timedelta

from sqlalchemy import and_, insert, or_, select

from hotline.extensions import db
from hotline.models import Status, Ticket, TicketAssist, TicketHold
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.city import geo
from tests import factories

CENTRE = (39.91, 116.41)


def old_nearby(actor, lat, long, *, radius_m=geo.DEFAULT_RADIUS_M, category_id=None, exclude_id=None, limit=50):
    """The query as it was (commit c6c1613): the cells' candidates, distance in Python, then the
    viewer's rule on those within the radius. Ids, distances and same-category flags."""
    ranges = geo.cell_ranges(lat, long, radius_m)
    in_cells = or_(*(Ticket.geo_cell.between(first, last) for first, last in ranges))
    statement = (
        select(Ticket.id, Ticket.lat, Ticket.long, Ticket.category_id)
        .where(and_(in_cells, Ticket.status.in_(Status.OPEN)))
        .limit(geo.CANDIDATES)
    )
    if exclude_id is not None:
        statement = statement.where(Ticket.id != exclude_id)
    measured = []
    for ticket_id, ticket_lat, ticket_long, ticket_category in db.session.execute(statement):
        metres = geo.distance_m(lat, long, ticket_lat, ticket_long)
        if metres <= radius_m:
            same = category_id is not None and ticket_category == category_id
            measured.append((not same, metres, ticket_id))
    if measured:
        visible = set(
            db.session.scalars(
                access.visible_tickets(actor)
                .with_only_columns(Ticket.id)
                .where(Ticket.id.in_([ticket_id for _, _, ticket_id in measured]))
            )
        )
        measured = [entry for entry in measured if entry[2] in visible]
    measured.sort()
    return [(ticket_id, metres, not other) for other, metres, ticket_id in measured[:limit]]


def random_world(city, rng: random.Random) -> list[tuple[float, float]]:
    """About 1,500 tickets around five spots within a kilometre, some on the edge of a radius."""
    departments = [city.roads, city.water]
    categories = [city.potholes.id, city.water_supply.id, city.other.id]
    creators = [city.operator.id, city.dispatcher.id, None]
    spots = [(CENTRE[0] + rng.uniform(-0.005, 0.005), CENTRE[1] + rng.uniform(-0.005, 0.005)) for _ in range(5)]
    rows = []
    points = []
    for i in range(1_500):
        lat0, long0 = rng.choice(spots)
        lat, long = round(rng.gauss(lat0, 0.0008), 6), round(rng.gauss(long0, 0.001), 6)
        if i % 50 == 0:  # exactly 100 m north of a spot: on a circle's edge
            lat, long = lat0 + math.degrees(100 / geo.EARTH_RADIUS_M), long0
        points.append((lat, long))
        rows.append(
            {
                "number": f"20260101-{i:08d}",
                "status": rng.choice(sorted(Status.ALL)),
                "type": "complaint",
                "category_id": rng.choice(categories),
                "department_id": rng.choice(departments).id if rng.random() < 0.8 else None,
                "district_id": city.east.id,
                "confidential": rng.random() < 0.15,
                "created_by_id": rng.choice(creators),
                "description": "路面有坑",
                "caller_phone": "+8613800138000",
                **geo.point_values(lat, long),
            }
        )
    db.session.execute(insert(Ticket), rows)
    ids = list(db.session.scalars(select(Ticket.id)))
    for ticket_id in rng.sample(ids, 60):
        db.session.add(TicketAssist(ticket_id=ticket_id, department_id=rng.choice(departments).id))
    for ticket_id in rng.sample(ids, 60):
        db.session.add(
            TicketHold(
                ticket_id=ticket_id,
                department_id=rng.choice(departments).id,
                due=utcnow() + timedelta(days=3),
                ended_at=None if rng.random() < 0.6 else utcnow(),
            )
        )
    db.session.commit()
    return spots + points


def test_nearby_returns_what_the_old_query_did(city):
    rng = random.Random(18)
    places = random_world(city, rng)
    viewers = [
        city.operator,
        city.dispatcher,
        city.roads_staff,
        city.water_staff,
        city.supervisor,
        city.admin,
        factories.make_user("operator", username="operator-other"),
    ]
    ids = list(db.session.scalars(select(Ticket.id)))
    categories = [None, city.potholes.id, city.water_supply.id]
    compared = found = 0
    for _ in range(60):
        lat, long = rng.choice(places)
        if rng.random() < 0.5:
            lat, long = lat + rng.uniform(-0.001, 0.001), long + rng.uniform(-0.001, 0.001)
        radius = rng.choice([30, 100, 100, 250, 800, geo.MAX_RADIUS_M])
        options = {
            "radius_m": radius,
            "category_id": rng.choice(categories),
            "exclude_id": rng.choice(ids) if rng.random() < 0.3 else None,
            "limit": rng.choice([5, 50]),
        }
        for viewer in viewers:
            new = [
                (near.ticket.id, near.distance_m, near.same_category)
                for near in geo.nearby(viewer, lat, long, **options)
            ]
            assert new == old_nearby(viewer, lat, long, **options), (viewer.username, lat, long, options)
            compared += 1
            found += len(new)
    assert compared == 420 and found > 2_500  # the comparisons found tickets, not only empty lists
