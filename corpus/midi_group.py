#!/usr/bin/env python3
"""Writes the first SECONDS of a MIDI file keeping only the notes of some channels.

Usage: midi_group.py SRC DST SECONDS CHANNELS
       midi_group.py --groups SRC
CHANNELS is a comma-separated list of MIDI channels (0-15) whose notes are kept, or "all".
--groups prints one line per instrument group that plays in SRC: "Name ch,ch,..", grouping the
channels by General MIDI program family (Drums = channel 10, Bass = programs 33-40, Keys =
pianos, chromatic percussion, organs, guitars, strings and ensembles, Lead = everything else).
Every other event (tempo, program and controller changes) is kept on every channel, so each
group renders with the same patches, pans and levels as in the full song. At SECONDS every
channel gets "all notes off", and the file ends there.

Uses mido (Debian package python3-mido).
"""
import sys

import mido


def group_of(channel: int, program: int) -> str:
    if channel == 9:
        return "Drums"
    if 32 <= program <= 39:
        return "Bass"
    if program <= 55:
        return "Keys"
    return "Lead"


def print_groups(src: str) -> None:
    song = mido.MidiFile(src)
    program, playing = {}, set()
    for msg in mido.merge_tracks(song.tracks):
        if msg.type == "program_change":
            program.setdefault(msg.channel, msg.program)
        if msg.type == "note_on" and msg.velocity > 0:
            playing.add(msg.channel)
    groups = {}
    for ch in sorted(playing):
        groups.setdefault(group_of(ch, program.get(ch, 0)), []).append(ch)
    for name in ("Drums", "Bass", "Keys", "Lead"):
        if name in groups:
            print(name, ",".join(str(c) for c in groups[name]))


def main() -> None:
    if sys.argv[1] == "--groups":
        print_groups(sys.argv[2])
        return
    src, dst, seconds, chans = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    keep = None if chans == "all" else {int(c) for c in chans.split(",") if c}
    song = mido.MidiFile(src)
    merged = mido.merge_tracks(song.tracks)
    track = mido.MidiTrack()
    tempo, now_s, carry = 500000, 0.0, 0
    for msg in merged:
        step_s = mido.tick2second(msg.time, song.ticks_per_beat, tempo)
        if now_s + step_s > seconds:
            break
        now_s += step_s
        if msg.type == "set_tempo":
            tempo = msg.tempo
        if msg.type == "end_of_track":
            carry += msg.time
            continue
        if msg.type in ("note_on", "note_off") and keep is not None and msg.channel not in keep:
            carry += msg.time
            continue
        track.append(msg.copy(time=msg.time + carry))
        carry = 0
    # The end lands at SECONDS in every group: the ticks of skipped events since the last kept
    # one (carry) plus the time from the last event read to SECONDS.
    end_ticks = carry + max(0, int(round(mido.second2tick(seconds - now_s, song.ticks_per_beat, tempo))))
    for ch in range(16):
        track.append(mido.Message("control_change", channel=ch, control=123, value=0, time=end_ticks))
        end_ticks = 0
    out = mido.MidiFile(type=0, ticks_per_beat=song.ticks_per_beat)
    out.tracks.append(track)
    out.save(dst)


if __name__ == "__main__":
    main()
