"""A meeting's options are declared once (scheduling/options.py); the form, the API body, the
meeting's JSON and the OpenAPI document each offer every one of them."""

import dataclasses

import pytest

from meetings.scheduling.forms import MeetingForm
from meetings.scheduling.options import OPTIONS
from meetings.scheduling.schemas import MeetingUpdate
from meetings.scheduling.settings import MeetingSettings

NAMES = [option.name for option in OPTIONS]


@pytest.mark.parametrize("name", NAMES)
def test_every_surface_offers_each_option(app, client, make_meeting, login, name):
    meeting = make_meeting()
    login(meeting.host)
    with app.test_request_context():
        assert name in MeetingForm(formdata=None)._fields
    assert name in MeetingUpdate.model_fields
    assert name in {field.name for field in dataclasses.fields(MeetingSettings)}
    assert name in client.get(f"/api/v1/meetings/{meeting.slug}").get_json()
    document = client.get("/api/v1/openapi.json").get_json()
    assert name in document["components"]["schemas"]["Meeting"]["properties"]
    assert name in document["components"]["schemas"]["MeetingUpdate"]["properties"]


def test_an_option_changed_through_the_api_is_what_the_edit_form_shows(
    app, client, make_meeting, api_token
):
    meeting = make_meeting()
    changed = {"join_muted": True, "webinar": True, "max_participants": 12}

    response = client.patch(
        f"/api/v1/meetings/{meeting.slug}", json=changed, headers=api_token(meeting.host)
    )

    assert response.status_code == 200, response.get_json()
    with app.test_request_context():
        form = MeetingForm.for_meeting(meeting)
        assert {name: form[name].data for name in changed} == changed
