"""Stored transcripts as hosts use them: the REST API (JSON and files), the transcript page
and its links from the history, and the captions track of a recording's player."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import (
    MeetingSession,
    Recording,
    RecordingAccess,
    RecordingStatus,
    Role,
    TranscriptSegment,
)
from meetings.recordings import library
from tests.support.accounts import signed_in_client
from tests.support.rooms import first_room
from tests.support.transcripts import add_transcript, parse_vtt

SAID = [
    ("Bo Li", 4.0, 7.25, "I think the <b>budget</b> --> is fine & done."),
    ("Ann", 1.0, 3.5, "Welcome to the design review."),
    ("Ann", 65.5, 68.0, "Let's look at the roadmap next."),
]


@pytest.fixture
def transcribed(make_user, make_meeting):
    """A meeting held an hour ago, with a transcript of its first occurrence; Cole co-hosts."""
    host = make_user(email="host@example.com", display_name="Hazel Host")
    co_host = make_user(email="cole@example.com", display_name="Cole Host")
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    meeting = make_meeting(host=host, title="Design review", starts_at=start)
    meeting.co_hosts.append(co_host)
    transcript = add_transcript(meeting, SAID, origin_at=start + timedelta(minutes=1))
    db.session.add(  # the room's life, as the ledger derived it from webhooks
        MeetingSession(
            room_sid="RM_1",
            room_name=transcript.room_name,
            meeting_id=meeting.id,
            occurrence_key=transcript.occurrence_key,
            started_at=start,
            ended_at=start + timedelta(minutes=50),
        )
    )
    db.session.commit()
    return host, co_host, meeting, transcript


# ---- REST ----------------------------------------------------------------------------------


def test_the_api_lists_occurrences_with_a_transcript(transcribed, client, api_token):
    host, _, meeting, transcript = transcribed
    answer = client.get(f"/api/v1/meetings/{meeting.slug}/transcripts", headers=api_token(host))
    assert answer.status_code == 200
    assert answer.get_json() == {
        "items": [
            {
                "occurrence_key": transcript.occurrence_key,
                "started_at": transcript.origin_at.isoformat().replace("+00:00", "Z"),
                "language": "en",
                "segment_count": 3,
                "speakers": [
                    {"identity": "g-ann", "display_name": "Ann"},
                    {"identity": "g-bo", "display_name": "Bo Li"},
                ],
            }
        ]
    }


def test_the_api_gives_an_occurrence_s_segments_in_the_order_said(transcribed, client, api_token):
    _, co_host, meeting, transcript = transcribed
    url = f"/api/v1/meetings/{meeting.slug}/transcripts/{transcript.occurrence_key}"
    answer = client.get(url, headers=api_token(co_host))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["occurrence_key"] == transcript.occurrence_key
    assert body["segments"] == [
        {
            "identity": "g-ann",
            "display_name": "Ann",
            "start": 1.0,
            "end": 3.5,
            "text": "Welcome to the design review.",
        },
        {
            "identity": "g-bo",
            "display_name": "Bo Li",
            "start": 4.0,
            "end": 7.25,
            "text": "I think the <b>budget</b> --> is fine & done.",
        },
        {
            "identity": "g-ann",
            "display_name": "Ann",
            "start": 65.5,
            "end": 68.0,
            "text": "Let's look at the roadmap next.",
        },
    ]


@pytest.mark.parametrize(
    ("file_format", "content_type", "first_line"),
    [
        ("vtt", "text/vtt; charset=utf-8", "WEBVTT"),
        ("srt", "application/x-subrip; charset=utf-8", "1"),
        ("txt", "text/plain; charset=utf-8", "[00:01] Ann: Welcome to the design review."),
    ],
)
def test_the_api_gives_the_transcript_as_a_file(
    transcribed, client, api_token, file_format, content_type, first_line
):
    host, _, meeting, transcript = transcribed
    key = transcript.occurrence_key
    url = f"/api/v1/meetings/{meeting.slug}/transcripts/{key}?format={file_format}"
    answer = client.get(url, headers=api_token(host))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == content_type
    disposition = answer.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="transcript-{meeting.slug}-{key}.{file_format}"'
    assert answer.get_data(as_text=True).splitlines()[0] == first_line


def test_the_api_vtt_parses_with_voices_and_escaped_speech(transcribed, client, api_token):
    host, _, meeting, transcript = transcribed
    url = f"/api/v1/meetings/{meeting.slug}/transcripts/{transcript.occurrence_key}?format=vtt"
    cues = parse_vtt(client.get(url, headers=api_token(host)).get_data(as_text=True))
    assert [(voice, text) for _, _, voice, text in cues] == [
        (s[0], s[3]) for s in sorted(SAID, key=lambda s: s[1])
    ]


def test_an_unknown_format_is_a_400_naming_the_parameter(transcribed, client, api_token):
    host, _, meeting, transcript = transcribed
    url = f"/api/v1/meetings/{meeting.slug}/transcripts/{transcript.occurrence_key}?format=pdf"
    answer = client.get(url, headers=api_token(host))
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == "format"


def test_an_occurrence_without_transcript_is_a_404(transcribed, client, api_token):
    host, _, meeting, _ = transcribed
    answer = client.get(
        f"/api/v1/meetings/{meeting.slug}/transcripts/20990101T0000Z", headers=api_token(host)
    )
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "transcript_not_found"


def test_only_the_meeting_s_hosts_and_operators_read_its_transcripts(
    transcribed, client, api_token, make_user
):
    _, _, meeting, transcript = transcribed
    other = make_user(email="other@example.com")
    operator = make_user(email="ops@example.com", role=Role.OPS)
    url = f"/api/v1/meetings/{meeting.slug}/transcripts/{transcript.occurrence_key}"
    assert client.get(url, headers=api_token(other)).status_code == 403
    assert client.get(url).status_code == 401
    assert client.get(url, headers=api_token(operator)).status_code == 200
    assert client.get(f"{url}?format=txt", headers=api_token(other)).status_code == 403


def test_an_empty_transcript_is_not_listed(make_meeting, client, api_token):
    meeting = make_meeting()
    add_transcript(meeting, [])
    answer = client.get(
        f"/api/v1/meetings/{meeting.slug}/transcripts", headers=api_token(meeting.host)
    )
    assert answer.get_json() == {"items": []}


def test_the_openapi_document_describes_the_transcript_paths(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    occurrence = paths["/meetings/{slug}/transcripts/{occurrence_key}"]["get"]
    assert "/meetings/{slug}/transcripts" in paths
    assert {p["name"] for p in occurrence["parameters"]} == {"slug", "occurrence_key", "format"}
    assert set(occurrence["responses"]["200"]["content"]) == {
        "application/json",
        "text/vtt",
        "application/x-subrip",
        "text/plain",
    }


# ---- pages ---------------------------------------------------------------------------------


def test_the_history_links_to_the_transcript(transcribed, login):
    host, _, meeting, transcript = transcribed
    page = login(host).get(f"/meetings/{meeting.slug}/history").get_data(as_text=True)
    link = f"/meetings/{meeting.slug}/transcripts/{transcript.occurrence_key}"
    assert f'href="{link}">Transcript' in page
    assert 'href="/transcripts/search"' in page


def test_the_history_has_no_transcript_link_without_one(transcribed, login):
    host, _, meeting, transcript = transcribed
    db.session.execute(  # captions were on; nobody spoke
        sa.delete(TranscriptSegment).where(TranscriptSegment.transcript_id == transcript.id)
    )
    db.session.commit()
    page = login(host).get(f"/meetings/{meeting.slug}/history").get_data(as_text=True)
    assert f"/meetings/{meeting.slug}/history/{transcript.occurrence_key}" in page
    assert "/transcripts/" not in page


def test_the_transcript_page_shows_who_said_what_and_when_escaped(transcribed, login):
    host, _, meeting, transcript = transcribed
    url = f"/meetings/{meeting.slug}/transcripts/{transcript.occurrence_key}"
    page = login(host).get(url).get_data(as_text=True)
    assert "<h1>Transcript" in page and "What was said</h2>" in page
    lines = re.findall(
        r'<dt><span class="transcript-speaker">([^<]*)</span> <time[^>]*>([^<]*)</time></dt>\s*'
        r"<dd>([^\n]*)</dd>",
        page,
    )
    assert lines == [
        ("Ann", "00:01", "Welcome to the design review."),
        ("Bo Li", "00:04", "I think the &lt;b&gt;budget&lt;/b&gt; --&gt; is fine &amp; done."),
        ("Ann", "01:05", "Let&#39;s look at the roadmap next."),
    ]
    for file_format in ("vtt", "srt", "txt"):
        assert f'href="{url}?format={file_format}" download' in page


def test_the_transcript_page_downloads_the_files(transcribed, login):
    host, _, meeting, transcript = transcribed
    url = f"/meetings/{meeting.slug}/transcripts/{transcript.occurrence_key}"
    client = login(host)
    answer = client.get(f"{url}?format=srt")
    assert answer.headers["Content-Type"] == "application/x-subrip; charset=utf-8"
    assert answer.headers["Content-Disposition"].startswith("attachment; ")
    assert client.get(f"{url}?format=exe").status_code == 400


def test_the_transcript_page_is_for_the_meeting_s_hosts(app, transcribed, make_user):
    _, co_host, meeting, transcript = transcribed
    url = f"/meetings/{meeting.slug}/transcripts/{transcript.occurrence_key}"
    cohosting = signed_in_client(app, co_host)
    assert cohosting.get(url).status_code == 200
    assert cohosting.get(f"/meetings/{meeting.slug}/transcripts/nope").status_code == 404
    assert signed_in_client(app, make_user()).get(url).status_code == 404


def test_the_attendance_page_links_to_the_transcript(transcribed, login):
    host, _, meeting, transcript = transcribed
    key = transcript.occurrence_key
    page = login(host).get(f"/meetings/{meeting.slug}/history/{key}").get_data(as_text=True)
    assert f'href="/meetings/{meeting.slug}/transcripts/{key}">Transcript</a>' in page


# ---- the recording player ------------------------------------------------------------------


@pytest.fixture
def recorded(app, tmp_path, transcribed):
    """A complete recording from the transcript's origin + 60 s to + 120 s."""
    host, _, meeting, transcript = transcribed
    app.config["RECORDINGS_DIR"] = str(tmp_path)
    (tmp_path / "r.mp4").write_bytes(b"mp4")
    started = transcript.origin_at + timedelta(seconds=60)
    recording = Recording(
        meeting=meeting,
        occurrence_key=transcript.occurrence_key,
        room_name=first_room(meeting),
        status=RecordingStatus.COMPLETE,
        file_name="r.mp4",
        started_at=started,
        ended_at=started + timedelta(seconds=60),
    )
    db.session.add(recording)
    db.session.commit()
    return host, recording


def test_the_player_has_a_captions_track_aligned_with_the_recording(recorded, login):
    host, recording = recorded
    client = login(host)
    page = client.get(f"/recordings/{recording.id}").get_data(as_text=True)
    track = f"/recordings/{recording.id}/captions.vtt"
    assert f'<track kind="captions" src="{track}" srclang="en" label="English" default>' in page
    answer = client.get(track)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/vtt; charset=utf-8"
    # Only the segment said while it recorded (65.5-68 s), timed from its start.
    assert parse_vtt(answer.get_data(as_text=True)) == [
        (5.5, 8.0, "Ann", "Let's look at the roadmap next.")
    ]
    assert "media-src 'self'" in answer.headers["Content-Security-Policy"]


def test_a_recording_with_nothing_said_in_its_span_has_no_track(recorded, login):
    host, recording = recorded
    recording.started_at = recording.ended_at + timedelta(hours=1)
    recording.ended_at = recording.started_at + timedelta(minutes=5)
    db.session.commit()
    client = login(host)
    assert "<track" not in client.get(f"/recordings/{recording.id}").get_data(as_text=True)
    assert client.get(f"/recordings/{recording.id}/captions.vtt").status_code == 404


def test_the_captions_follow_the_recording_s_access(recorded, login, make_user):
    _, recording = recorded
    track = f"/recordings/{recording.id}/captions.vtt"
    assert login(make_user()).get(track).status_code == 404


def test_a_shared_recording_has_its_captions_by_the_same_link(recorded, client):
    host, recording = recorded
    token = library.set_access(recording, host, RecordingAccess.LINK)
    db.session.commit()
    page = client.get(f"/recordings/shared/{token}").get_data(as_text=True)
    assert f'src="/recordings/shared/{token}/captions.vtt"' in page
    answer = client.get(f"/recordings/shared/{token}/captions.vtt")
    assert answer.status_code == 200 and answer.get_data(as_text=True).startswith("WEBVTT")
    assert client.get("/recordings/shared/not-the-token/captions.vtt").status_code == 404
