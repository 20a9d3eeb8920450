"""What one built-in recording costs: CPU (cores, average and p95) and memory (PSS) of the
media worker while it records a room of 2 and of 6 synthetic people (moving simulcast cameras
and tones; one of them also shares a screen), and how close to real time it keeps up (frames in
the file per second of recording, against the 25 it should hold).

Compared with what LiveKit Egress budgets for one room composite recording: its
`cpu_cost.room_composite_cpu_cost` defaults to 4 cores (LiveKit's egress configuration docs);
an egress worker refuses a job unless that much CPU is free.
"""

import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import psutil
from livekit import api

from tests.support.media_worker import WorkerProcess
from tests.worker import media
from tests.worker.participants import ParticipantsProcess

PEOPLE = tuple(int(n) for n in os.environ.get("BENCH_RECORD_PEOPLE", "2,6").split(","))
WARM_UP_SECONDS = 5  # the recorder joins and subscribes; not what a recording costs
MEASURE_SECONDS = int(os.environ.get("BENCH_RECORD_SECONDS", "30"))
FPS = 25
EGRESS_ROOM_COMPOSITE_CORES = 4.0
TARGET_CORES = 0.5  # per 720p25 recording of 6 people on this machine: 8x below Egress


def run(stack) -> dict:
    config = stack.livekit.config
    worker = WorkerProcess(
        config, stack.base_url, stack.workdir / "worker.log", stack.workdir / "recordings"
    ).wait_registered()
    try:
        idle = sample(worker, seconds=5)
        results = {f"people_{count}": record(stack, worker, count) for count in PEOPLE}
    finally:
        worker.stop()
    six = results.get("people_6") or results[f"people_{PEOPLE[-1]}"]
    return {
        **results,
        "idle_worker": {"cores_avg": idle["cores_avg"], "pss_mb": idle["pss_mb_max"]},
        "egress_room_composite_cores": EGRESS_ROOM_COMPOSITE_CORES,
        "measure_seconds": MEASURE_SECONDS,
        "target": {
            "cores_per_recording_6_people": TARGET_CORES,
            "met": six["cores_avg"] <= TARGET_CORES and six["fps_in_file"] >= FPS * 0.95,
        },
        "note": "the worker process tree (job process and its idle spare) on a 2-core machine "
        "that also runs livekit-server and the synthetic people",
    }


def record(stack, worker: WorkerProcess, count: int) -> dict:
    config = stack.livekit.config
    room = f"bench-recording-{count}-{secrets.token_hex(3)}"
    job_id = secrets.token_hex(6)
    file_name = f"bench/{room}.mp4"
    lk_call(config, lambda lk: lk.room.create_room(api.CreateRoomRequest(name=room)))
    people = [
        {"room": room, "identity": f"person-{i}", "moving": True, "tone": 220 + 55 * i}
        for i in range(count)
    ]
    people[0]["screen"] = True
    group = ParticipantsProcess(config.ws_url, config.api_key, config.api_secret, people)
    try:
        job = {
            "job_id": job_id,
            "room": room,
            "file_name": file_name,
            "layout": "grid",
            "audio_only": False,
            "storage": "local",
        }
        request = api.CreateAgentDispatchRequest(
            agent_name="meetings-recorder", room=room, metadata=json.dumps(job)
        )
        lk_call(config, lambda lk: lk.agent_dispatch.create_dispatch(request))
        path = worker.recordings / file_name
        wait_for_file(path)
        time.sleep(WARM_UP_SECONDS)
        usage = sample(worker, MEASURE_SECONDS)
        identity = api.RoomParticipantIdentity(room=room, identity=f"recorder-{job_id}")
        lk_call(config, lambda lk: lk.room.remove_participant(identity))
        wait_until_finished(path)
    finally:
        group.close()
    frames, duration = probe_video(path)
    return {
        **usage,
        "file_seconds": round(duration, 1),
        "fps_in_file": round(frames / duration, 1),
        "size_mb": round(path.stat().st_size / 1e6, 1),
    }


def sample(worker: WorkerProcess, seconds: float) -> dict:
    """CPU (cores) and memory (PSS) of the worker and all its processes, once a second."""
    root = psutil.Process(worker.process.pid)
    cores, memory = [], []
    last = _cpu_seconds(root)
    for _ in range(int(seconds)):
        began = time.monotonic()
        time.sleep(1.0)
        now = _cpu_seconds(root)
        cores.append((now - last) / (time.monotonic() - began))
        last = now
        memory.append(_memory_mb(root))
    cores.sort()
    return {
        "cores_avg": round(statistics.fmean(cores), 3),
        "cores_p95": round(cores[min(len(cores) - 1, int(0.95 * len(cores)))], 3),
        "pss_mb_max": round(max(memory)),
    }


def _memory_mb(root: psutil.Process) -> float:
    """Proportional set size of the tree: a library its processes share is counted once, not
    once per process as the sum of their RSS would (the job processes are forks)."""
    total = 0
    for process in _tree(root):
        try:
            total += process.memory_full_info().pss
        except psutil.NoSuchProcess:
            continue
    return total / 1e6


def _tree(root: psutil.Process) -> list[psutil.Process]:
    return [root, *root.children(recursive=True)]


def _cpu_seconds(root: psutil.Process) -> float:
    total = 0.0
    for process in _tree(root):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def wait_for_file(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size > 0):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the recorder wrote nothing to {path} in {timeout} s")
        time.sleep(0.2)


def wait_until_finished(path: Path, timeout: float = 60) -> None:
    """Done when the fragmented file was replaced by the plain one (index first, no fragments)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        boxes = media.top_level_boxes(path)
        if "mdat" in boxes and "moof" not in boxes:
            return
        time.sleep(0.5)
    raise TimeoutError(f"{path} was not finished within {timeout} s")


def probe_video(path: Path) -> tuple[int, float]:
    """(frames, seconds) of the video stream."""
    command = [shutil.which("ffprobe") or "ffprobe", "-v", "error", "-select_streams", "v:0"]
    command += ["-count_packets", "-show_entries", "stream=nb_read_packets:format=duration"]
    done = subprocess.run(  # noqa: S603 (our own ffprobe on our own file)
        [*command, "-of", "json", str(path)], check=True, capture_output=True, timeout=60
    )
    probe = json.loads(done.stdout)
    return int(probe["streams"][0]["nb_read_packets"]), float(probe["format"]["duration"])


def lk_call(config, call) -> None:
    async def go() -> None:
        async with api.LiveKitAPI(config.url, config.api_key, config.api_secret) as lk:
            await asyncio.wait_for(call(lk), 10)  # livekit-api's own timeout does not work

    asyncio.run(go())
