"""Forms confirm what they did on the page they lead to (a login created, a door added)."""

from __future__ import annotations

import re

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


def test_a_building_is_added_on_the_doors_page_then_offered_for_lifts(site: Site) -> None:
    client, csrf = log_in(site, "operator")
    added = client.post(
        "/console/buildings",
        data={"name": "Tower C", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert added.headers["location"] == "/console/doors?done=building"
    page = client.get(added.headers["location"]).text
    assert "Building added." in page
    assert re.search(r'<select name="building_id" required><option value="[^"]+">Tower C<', page)
    auditor, auditor_csrf = log_in(site, "auditor")
    refused = auditor.post("/console/buildings", data={"name": "X", "csrf_token": auditor_csrf})
    assert refused.status_code == 403


def test_an_admin_records_a_disclosure_the_auditor_reads_it_by_name(site: Site) -> None:
    client, csrf = log_in(site, "admin")
    form = client.get("/console/disclosures", params={"who": "Ann"}).text
    assert f'<option value="{site.resident_id}"' in form
    done = client.post(
        "/console/disclosures",
        data={
            "person_id": site.resident_id,
            "requesting_body": "City Police",
            "legal_basis": "warrant 7",
            "data_classes": ["events", "person"],
            "start": "2026-03-01",
            "end": "2026-03-01",
            "approved_by": "Site manager",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == "/console/disclosures?done=true"
    auditor, _ = log_in(site, "auditor")
    page = auditor.get("/console/disclosures").text
    assert f'<a href="/console/people/{site.resident_id}">Ann Lee</a>' in page
    assert "events, person" in page
    assert "disclosure-form" not in page  # auditors read, administrators record
    operator, _ = log_in(site, "operator")
    assert operator.get("/console/disclosures").status_code == 403
