"""Which department must act on a ticket: the routing rules, learned suggestions and their text
model, ping-pong (来回派单)."""
