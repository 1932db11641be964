"""The intake form's category picker: full paths, pinyin and the operator's recent choices."""

from datetime import timedelta

from hotline.extensions import db
from hotline.services.city import category_picker
from tests import factories


def test_each_category_is_found_by_its_path_and_its_pinyin(city):
    factories.make_category("street-lights", None, city.infrastructure, name="路灯不亮")
    found = category_picker.searchable()
    path, pinyin, leaf = found["street-lights"]
    assert path == "城乡建设 › 路灯不亮"
    assert pinyin.split() == ["chengxiangjiansheludengbuliang", "cxjsldbl"]
    assert leaf.split() == ["ludengbuliang", "ldbl"]
    assert found["potholes"][0] == "城乡建设 › 道路坑洼"
    # Letters and digits stay as they are, in both keys.
    factories.make_category("hotline-95598", None, None, name="Power 95598")
    assert category_picker.searchable()["hotline-95598"][1] == "power95598 power95598"


def test_recent_categories_are_the_operators_latest_each_once(city):
    first = factories.make_ticket(city.operator, category="potholes")
    second = factories.make_ticket(city.operator, category="water-supply")
    third = factories.make_ticket(city.operator, category="potholes")
    factories.make_ticket(city.dispatcher, category="other")  # another user's choice
    for ticket, age in ((first, 3), (second, 2), (third, 1)):
        ticket.created_at -= timedelta(minutes=age)
    db.session.commit()
    assert category_picker.recent_codes(city.operator) == ["potholes", "water-supply"]
    assert category_picker.recent_codes(city.operator, limit=1) == ["potholes"]
    assert category_picker.recent_codes(city.supervisor) == []
