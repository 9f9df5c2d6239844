"""Forms confirm what they did on the page they lead to (a login created, a door added)."""

from __future__ import annotations

from pages import log_in

from api_site import Site


def test_creating_a_login_is_confirmed_on_the_person_page(site: Site) -> None:
    client, csrf = log_in(site, "admin")
    person = client.post(
        "/console/people", data={"name": "Li Na", "csrf_token": csrf}, follow_redirects=False
    )
    assert person.headers["location"].endswith("?done=added")
    url = person.headers["location"].split("?")[0]
    assert "record their consent next" in client.get(person.headers["location"]).text
    made = client.post(
        f"{url}/account",
        data={"username": "lina", "password": "a long enough passphrase", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert made.headers["location"] == f"{url}?done=login"
    page = client.get(made.headers["location"]).text
    assert 'id="done" role="status">Login created' in page


def test_a_door_added_is_confirmed_and_unknown_codes_show_nothing(site: Site) -> None:
    client, csrf = log_in(site, "operator")
    added = client.post(
        "/console/doors",
        data={"name": "Back door", "accepted": ["card"], "csrf_token": csrf},
        follow_redirects=False,
    )
    assert added.headers["location"] == "/console/doors?done=door"
    assert "Door added." in client.get(added.headers["location"]).text
    assert 'id="done"' not in client.get("/console/doors?done=<script>").text
