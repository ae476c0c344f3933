from credstack.privacy import scrubbed


def test_scrubbing_removes_the_named_members_at_any_depth_and_keeps_the_rest() -> None:
    payload = {
        "id": "evt_1",
        "data": {
            "object": {
                "amount_total": 1000,
                "customer_details": {"email": "ada@example.org", "name": "Ada"},
                "charges": [{"billing_details": {"name": "Ada"}, "amount": 1000}],
            }
        },
    }

    assert scrubbed(payload, frozenset({"customer_details", "billing_details"})) == {
        "id": "evt_1",
        "data": {"object": {"amount_total": 1000, "charges": [{"amount": 1000}]}},
    }
