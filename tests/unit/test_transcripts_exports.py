"""Transcript files as players and people read them: WebVTT (parsed back here), SRT, plain
text, and the WebVTT of a recording, timed from the recording's start."""

from datetime import UTC, datetime, timedelta

from meetings.models import Recording, Transcript, TranscriptSegment
from meetings.transcripts import exports
from tests.support.transcripts import parse_vtt

ORIGIN = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


def segment(start: float, end: float, text: str, name: str = "Ann", identity: str = "g-ann"):
    return TranscriptSegment(
        segment_id=f"s{start}",
        identity=identity,
        display_name=name,
        start=start,
        end=end,
        text=text,
    )


def test_webvtt_has_a_voice_per_cue_and_monotonic_timings():
    segments = [
        segment(65.5, 68.0, "Let's look at the roadmap next."),
        segment(1.0, 3.5, "Welcome, everyone."),
        segment(4.0, 7.25, "Thanks Ann.", name="Bo Li", identity="g-bo"),
        segment(3725.042, 3726.5, "Past the hour."),
    ]
    body = exports.webvtt(exports.cues_of(segments))
    cues = parse_vtt(body)
    assert [(c[2], c[3]) for c in cues] == [
        ("Ann", "Welcome, everyone."),
        ("Bo Li", "Thanks Ann."),
        ("Ann", "Let's look at the roadmap next."),
        ("Ann", "Past the hour."),
    ]
    starts = [c[0] for c in cues]
    assert starts == sorted(starts)
    assert all(end > start for start, end, _, _ in cues)
    assert "00:00:04.000 --> 00:00:07.250" in body
    assert "01:02:05.042 --> 01:02:06.500" in body


def test_speech_never_becomes_markup_or_a_timing_in_webvtt():
    said = "I think the <b>budget</b> --> is fine & <c.red>done</c>"
    name = "Eve <i>Evil</i> > & Co"
    cues = parse_vtt(exports.webvtt(exports.cues_of([segment(2, 4, said, name=name)])))
    assert cues == [(2.0, 4.0, name, said)]  # read back exactly, as text
    body = exports.webvtt(exports.cues_of([segment(2, 4, said, name=name)]))
    assert "<b>" not in body and "&lt;b&gt;budget&lt;/b&gt; --&gt; is fine &amp;" in body
    assert "<v Eve &lt;i&gt;Evil&lt;/i&gt; &gt; &amp; Co>" in body


def test_a_line_break_or_blank_line_in_speech_does_not_end_the_cue():
    cues = parse_vtt(exports.webvtt(exports.cues_of([segment(0, 2, "one\n\n00:00:09.000 --> x")])))
    assert cues == [(0.0, 2.0, "Ann", "one 00:00:09.000 --> x")]


def test_a_segment_without_length_still_shows_for_a_moment():
    (cue,) = parse_vtt(exports.webvtt(exports.cues_of([segment(5, 5, "Hm.")])))
    assert cue[1] - cue[0] == exports.MIN_CUE_SECONDS


def test_an_empty_transcript_is_a_valid_webvtt_file():
    assert parse_vtt(exports.webvtt([])) == []


def test_srt_numbers_cues_with_comma_milliseconds():
    segments = [segment(1.0, 3.5, "Welcome."), segment(4.0, 7.25, "Hi <b>all</b>", name="Bo")]
    body = exports.srt(exports.cues_of(segments))
    assert body == (
        "1\n00:00:01,000 --> 00:00:03,500\nAnn: Welcome.\n\n"
        "2\n00:00:04,000 --> 00:00:07,250\nBo: Hi \u2039b\u203aall\u2039/b\u203a\n"
    )


def test_plain_text_is_time_speaker_text_per_line():
    segments = [
        segment(65.5, 68, "Roadmap."),
        segment(1.0, 3.5, "Welcome."),
        segment(3725, 3726, "Late."),
    ]
    assert exports.plain_text(exports.cues_of(segments)) == (
        "[00:01] Ann: Welcome.\n[01:05] Ann: Roadmap.\n[1:02:05] Ann: Late.\n"
    )


def test_a_speaker_without_a_name_is_named_by_identity():
    (cue,) = exports.cues_of([segment(0, 1, "Hello", name="", identity="g-x")])
    assert cue.speaker == "g-x"


def test_file_names_are_safe():
    meeting = type("M", (), {"slug": "ab-cd"})()
    assert exports.file_name(meeting, '20270104T0800Z"; x=../../', "vtt") == (
        "transcript-ab-cd-20270104T0800Z-x.vtt"
    )


# ---- a recording's captions ------------------------------------------------------------------


def recording_cues(segments, started: float | None, ended: float | None):
    transcript = Transcript(origin_at=ORIGIN)
    recording = Recording(
        started_at=None if started is None else ORIGIN + timedelta(seconds=started),
        ended_at=None if ended is None else ORIGIN + timedelta(seconds=ended),
    )
    return exports.recording_cues(transcript, segments, recording)


SAID = [
    segment(10, 20, "Before the recording."),
    segment(55, 65, "Across its start."),
    segment(90, 95, "In the middle."),
    segment(118, 125, "Across its end."),
    segment(130, 140, "After it."),
]


def test_a_recording_gets_what_was_said_while_it_ran_timed_from_its_start():
    cues = recording_cues(SAID, started=60, ended=120)
    assert [(c.start, c.end, c.text) for c in cues] == [
        (0.0, 5.0, "Across its start."),
        (30.0, 35.0, "In the middle."),
        (58.0, 60.0, "Across its end."),
    ]
    parsed = parse_vtt(exports.webvtt(cues))
    assert [(start, end) for start, end, _, _ in parsed] == [(0, 5), (30, 35), (58, 60)]


def test_a_recording_that_started_before_captions_shifts_the_other_way():
    cues = recording_cues([segment(10, 20, "Early words.")], started=-30, ended=600)
    assert [(c.start, c.end) for c in cues] == [(40.0, 50.0)]


def test_a_recording_without_a_start_has_no_captions():
    assert recording_cues(SAID, started=None, ended=None) == []


def test_a_recording_still_running_gets_everything_since_its_start():
    cues = recording_cues(SAID, started=100, ended=None)
    assert [c.text for c in cues] == ["Across its end.", "After it."]
