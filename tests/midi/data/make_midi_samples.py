#!/usr/bin/env python3
"""Writes tiny Standard MIDI Files byte by byte (stdlib only) for the fermata MIDI tests.

    python3 tests/midi/data/make_midi_samples.py            # tests/midi/data/*.mid
    python3 tests/midi/data/make_midi_samples.py --corpus    # also fuzz/corpus/midi/ seeds

The expected notes of each sample are spelled out in tests/midi/smf_test.cpp (MidiSamples).
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def header(fmt, ntracks, division):
    return b"MThd" + struct.pack(">IHHH", 6, fmt, ntracks, division)


def chunk(cid, body):
    return cid + struct.pack(">I", len(body)) + body


def track(events):
    """events: list of (delta, raw bytes after the delta)."""
    return chunk(b"MTrk", b"".join(vlq(d) + raw for d, raw in events))


EOT = b"\xff\x2f\x00"


def tempo(us):
    return b"\xff\x51\x03" + us.to_bytes(3, "big")


def scale_format0():
    # Format 0, 96 ticks per quarter, 120 bpm: C4 D4 E4 one quarter (0.5 s) each, velocities
    # 80 90 100. Note-offs are note-ons with velocity 0 and use running status.
    ev = [
        (0, tempo(500000)),
        (0, b"\xff\x03\x05scale"),
        (0, b"\x90\x3c\x50"),
        (96, b"\x3c\x00"),       # running status, velocity 0 = note-off
        (0, b"\x3e\x5a"),
        (96, b"\x3e\x00"),
        (0, b"\x40\x64"),
        (96, b"\x40\x00"),
        (0, EOT),
    ]
    return header(0, 1, 96) + track(ev)


def tempo_change_format1():
    # Format 1, 480 ticks per quarter. Track 0: 120 bpm, then 240 bpm from tick 960 (1.0 s).
    # Track 1 (channel 2, program 40 violin): G4 ticks 0-480 (0-0.5 s), A4 ticks 960-1440
    # (1.0-1.25 s). A SysEx, a text meta event and an unknown chunk are skipped.
    t0 = [
        (0, b"\xff\x03\x09conductor"),
        (0, b"\xff\x58\x04\x03\x02\x18\x08"),  # 3/4
        (0, b"\xff\x59\x02\xfe\x01"),           # 2 flats, minor
        (0, tempo(500000)),
        (960, tempo(250000)),
        (0, EOT),
    ]
    t1 = [
        (0, b"\xff\x03\x06violin"),
        (0, b"\xf0\x05\x7e\x7f\x09\x01\xf7"),    # GM on SysEx, skipped
        (0, b"\xff\x01\x04text"),                # text meta, skipped
        (0, b"\xc1\x28"),
        (0, b"\x91\x43\x64"),
        (480, b"\x81\x43\x40"),
        (480, b"\x91\x45\x50"),
        (0, b"\xb1\x07\x64"),                    # control change inside running channel
        (480, b"\x81\x45\x00"),
        (0, b"\xe1\x00\x40"),                    # pitch bend centre
        (0, EOT),
    ]
    return header(1, 2, 480) + track(t0) + chunk(b"XFIH", b"\x01\x02\x03") + track(t1)


def overlap_drums():
    # Format 1, one track, 96 ticks per quarter, default tempo (120 bpm, 1 tick = 1/192 s).
    # Channel 1: two overlapping C4s (on 0, on 48, off 96, off 144: FIFO gives 0-96 and 48-144),
    # E4 from tick 0 never closed (ends at the end of track, tick 192).
    # Channel 10 (drums): kick 36 ticks 0-24, hi-hat 42 ticks 96-120.
    ev = [
        (0, b"\x90\x3c\x64"),
        (0, b"\x40\x46"),
        (0, b"\x99\x24\x7f"),
        (24, b"\x89\x24\x00"),
        (24, b"\x90\x3c\x32"),
        (48, b"\x80\x3c\x00"),
        (0, b"\x99\x2a\x60"),
        (24, b"\x2a\x00"),                       # running status note-on velocity 0
        (24, b"\x80\x3c\x00"),
        (48, EOT),
    ]
    return header(1, 1, 96) + track(ev)


SAMPLES = {
    "scale_format0.mid": scale_format0,
    "tempo_change_format1.mid": tempo_change_format1,
    "overlap_drums.mid": overlap_drums,
}


def invalid_seeds():
    good = scale_format0()
    return {
        "invalid_truncated_header.mid": b"MThd\x00\x00\x00\x06\x00",
        "invalid_bad_magic.mid": b"RIFF" + good[4:],
        "invalid_track_length.mid": header(0, 1, 96) + b"MTrk" + struct.pack(">I", 1000) + b"\x00\xff\x2f\x00",
        "invalid_vlq.mid": header(0, 1, 96) + chunk(b"MTrk", b"\x81\x81\x81\x81\x01\x90\x3c\x40" + b"\x00" + EOT),
        "invalid_running_status.mid": header(0, 1, 96) + chunk(b"MTrk", b"\x00\x3c\x40\x00" + EOT),
        "invalid_sysex_length.mid": header(0, 1, 96) + chunk(b"MTrk", b"\x00\xf0\x7f\x01\x02"),
        "invalid_format2.mid": header(2, 1, 96) + track([(0, EOT)]),
        "invalid_meta_length.mid": header(0, 1, 96) + chunk(b"MTrk", b"\x00\xff\x51\x02\x07\xa1\x00" + EOT),
        "invalid_smpte.mid": header(0, 1, 0xE728) + track([(0, EOT)]),
        "invalid_missing_track.mid": header(1, 2, 96) + track([(0, EOT)]),
        "invalid_truncated_event.mid": header(0, 1, 96) + chunk(b"MTrk", b"\x00\x90\x3c"),
    }


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    for name, make in SAMPLES.items():
        write(os.path.join(HERE, name), make())
    if "--corpus" in sys.argv:
        corpus = os.path.join(ROOT, "fuzz", "corpus", "midi")
        os.makedirs(corpus, exist_ok=True)
        for name, make in SAMPLES.items():
            write(os.path.join(corpus, "valid_" + name), make())
        for name, data in invalid_seeds().items():
            write(os.path.join(corpus, name), data)


if __name__ == "__main__":
    main()
