"""Full-text search over one's own transcripts (SQLite FTS5 or PostgreSQL text search, as
the run's database is) and retention of transcripts with the ledger's."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from meetings.extensions import db
from meetings.models import Transcript, TranscriptSegment
from meetings.transcripts import search
from tests.support.accounts import signed_in_client
from tests.support.transcripts import add_transcript


@pytest.fixture
def meetings(make_user, make_meeting):
    """Hazel hosts a design review (Cole co-hosts); Olga hosts a budget meeting."""
    hazel = make_user(email="hazel@example.com", display_name="Hazel")
    cole = make_user(email="cole@example.com", display_name="Cole")
    olga = make_user(email="olga@example.com", display_name="Olga")
    review = make_meeting(host=hazel, title="Design review")
    review.co_hosts.append(cole)
    budget = make_meeting(host=olga, title="Budget <meeting>")
    add_transcript(
        review,
        [
            ("Ann", 1.0, 3.0, "Welcome to the design review."),
            ("Bo", 62.0, 65.0, "The roadmap slips by two weeks, <b>sadly</b>."),
            ("Ann", 70.0, 72.0, "Then we update the roadmaps & plans."),
        ],
    )
    add_transcript(budget, [("Olga", 5.0, 8.0, "The roadmap costs too much.")])
    return hazel, cole, olga


def texts(hits) -> list[str]:
    return [hit.segment.text for hit in hits]


def test_a_word_finds_its_segments_in_one_s_own_meetings_only(meetings):
    hazel, cole, olga = meetings
    found = search.search(hazel, "roadmap")
    assert texts(found) == [
        "The roadmap slips by two weeks, <b>sadly</b>.",
        "Then we update the roadmaps & plans.",  # the stemmer: roadmaps
    ]
    assert {hit.meeting.title for hit in found} == {"Design review"}
    assert texts(search.search(cole, "roadmap")) == texts(found)  # co-hosts too
    assert texts(search.search(olga, "roadmap")) == ["The roadmap costs too much."]


def test_every_word_must_be_in_the_segment(meetings):
    hazel, _, _ = meetings
    assert texts(search.search(hazel, "roadmap weeks")) == [
        "The roadmap slips by two weeks, <b>sadly</b>."
    ]
    assert search.search(hazel, "roadmap budget") == []


def test_query_syntax_is_only_words(meetings):
    hazel, _, _ = meetings
    # FTS5 and tsquery operators are words here, never syntax (no error, no injection).
    for query in ('roadmap" OR "welcome', "roadmap NEAR(welcome)", "text:roadmap", "roadmap & !x"):
        assert all("roadmap" in text.lower() for text in texts(search.search(hazel, query)))
    assert search.search(hazel, "'; DROP TABLE transcripts; --") == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transcript)) == 2


@pytest.mark.parametrize("query", ["", "   ", "a", "?!", "-"])
def test_a_query_without_two_letters_is_too_short(meetings, query):
    with pytest.raises(search.QueryTooShort):
        search.search(meetings[0], query)


def test_the_highlight_escapes_first_then_marks():
    marked = search.highlight("The <b>roadmap</b> & Roadmaps: mark&lt;", "roadmap lt")
    assert str(marked) == (
        "The &lt;b&gt;<mark>roadmap</mark>&lt;/b&gt; &amp; <mark>Roadmaps</mark>: "
        "mark&amp;<mark>lt</mark>;"
    )


def test_the_search_page_shows_results_with_the_match_marked(app, meetings):
    hazel, _, _ = meetings
    page = signed_in_client(app, hazel).get("/transcripts/search?q=sadly").get_data(as_text=True)
    assert "1 caption with “sadly”" in page
    assert "Design review" in page and "Budget" not in page
    assert "The roadmap slips by two weeks, &lt;b&gt;<mark>sadly</mark>&lt;/b&gt;." in page
    assert '<span class="transcript-speaker">Bo</span> at <time' in page
    assert ">01:02</time>" in page
    assert "/transcripts/" in page and "#segment-" in page


def test_the_search_page_escapes_the_query_and_titles(app, meetings):
    _, _, olga = meetings
    client = signed_in_client(app, olga)
    page = client.get("/transcripts/search?q=costs").get_data(as_text=True)
    assert "Budget &lt;meeting&gt;" in page
    page = client.get("/transcripts/search?q=<script>nothing").get_data(as_text=True)
    assert "<script>nothing" not in page
    assert "No captions with “&lt;script&gt;nothing”" in page


def test_the_search_page_says_when_nothing_matches(app, meetings):
    page = signed_in_client(app, meetings[0]).get("/transcripts/search?q=zebra")
    assert "No transcript of your meetings has every word of “zebra”" in page.get_data(as_text=True)


@pytest.mark.parametrize("query", ["", "a", "%20"])
def test_the_search_page_says_when_the_query_is_too_short(app, meetings, query):
    page = signed_in_client(app, meetings[0]).get(f"/transcripts/search?q={query}")
    assert page.status_code == 200
    assert "Type at least 2 letters or digits to search." in page.get_data(as_text=True)


def test_the_search_page_without_a_query_only_asks(app, meetings):
    page = signed_in_client(app, meetings[0]).get("/transcripts/search").get_data(as_text=True)
    assert 'role="search"' in page and "Type at least" not in page and "results-title" not in page


def test_the_dashboard_links_to_the_search(app, make_user, make_meeting):
    host = make_user()
    make_meeting(host=host, starts_at=datetime.now(UTC) - timedelta(days=3))
    page = signed_in_client(app, host).get("/dashboard").get_data(as_text=True)
    assert 'href="/transcripts/search"' in page


# ---- retention ------------------------------------------------------------------------------


def age(transcript: Transcript, days: int) -> None:
    old = datetime.now(UTC) - timedelta(days=days)
    db.session.execute(
        sa.update(Transcript)
        .where(Transcript.id == transcript.id)
        .values(origin_at=old, updated_at=old)
    )
    db.session.execute(
        sa.update(TranscriptSegment)
        .where(TranscriptSegment.transcript_id == transcript.id)
        .values(created_at=old)
    )
    db.session.commit()


def test_purge_deletes_transcripts_past_the_ledger_s_retention(app, make_meeting, make_user):
    host = make_user()
    old = add_transcript(make_meeting(host=host), [("Ann", 1, 2, "An ancient walrus.")])
    recent = add_transcript(make_meeting(host=host), [("Ann", 1, 2, "A recent walrus.")])
    still_going = add_transcript(make_meeting(host=host), [("Ann", 1, 2, "A long walrus.")])
    age(old, 120)
    age(recent, 30)
    age(still_going, 120)
    db.session.add(
        TranscriptSegment(
            transcript_id=still_going.id,
            segment_id="late",
            identity="g-ann",
            display_name="Ann",
            start=86_400.0,
            end=86_402.0,
            text="Said yesterday in a room open for months.",
        )
    )
    db.session.commit()
    old_id = old.id
    output = app.test_cli_runner().invoke(args=["livekit", "purge"]).output
    assert "the transcripts of 1 occurrence(s)" in output
    db.session.expire_all()
    assert db.session.get(Transcript, old_id) is None
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(TranscriptSegment.transcript_id == old_id)
        )
        == 0
    )
    assert sorted(texts(search.search(host, "walrus"))) == ["A long walrus.", "A recent walrus."]
