"""`aisleway terminal`: arguments refused before Kivy starts; the feedback sounds."""

from __future__ import annotations

import wave

import pytest
import terminal_ui_support as ui  # before any Kivy import: offscreen switches, the Window

from edge_server.cli import main
from terminal.ui.feedback import BEEPS, FeedbackPlayer, write_sounds
from terminal.workflows.base import Tone


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--profile", "no-such-scanner"], "no scanner profile named 'no-such-scanner'"),
        (["--simulate", "/no/such/file.txt"], "cannot read the scan script"),
        (["--server", "ftp://edge"], "is not a server address"),
        (["--server", "127.0.0.1:port"], "has a bad port number"),
    ],
)
def test_bad_launch_arguments_are_refused_with_the_reason(args, reason, capsys):
    assert main(["terminal", *args]) == 2
    assert reason in capsys.readouterr().err


def test_an_empty_scan_script_is_refused(tmp_path, capsys):
    script = tmp_path / "scans.txt"
    script.write_text("# only a comment\n\n")
    assert main(["terminal", "--simulate", str(script)]) == 2
    assert "has no scans" in capsys.readouterr().err


def test_without_a_display_the_launcher_says_so(monkeypatch, tmp_path, capsys):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "ANDROID_ARGUMENT"):
        monkeypatch.delenv(var, raising=False)
    script = tmp_path / "scans.txt"
    script.write_text("A01-01-1L\n")
    code = main(["terminal", "--data-dir", str(tmp_path), "--simulate", str(script)])
    assert code == 2
    assert "no display" in capsys.readouterr().err


def test_the_profiles_subcommand_still_works(capsys):
    assert main(["terminal", "profiles"]) == 0
    assert "keyboard-wedge" in capsys.readouterr().out


def test_each_tone_has_its_own_wav_and_plays_on_a_dummy_audio_device(tmp_path):
    paths = write_sounds(tmp_path)
    assert set(paths) == set(Tone)
    lengths = {}
    for tone, path in paths.items():
        with wave.open(str(path)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
            lengths[tone] = wav.getnframes()
    assert lengths[Tone.BAD] > lengths[Tone.GOOD]  # the double buzz is longer than the beep
    assert len(BEEPS[Tone.BAD]) == 3  # buzz, gap, buzz

    player = FeedbackPlayer(tmp_path)  # SDL_AUDIODRIVER=dummy: loads, plays silently
    assert set(player.sounds) == set(Tone)
    player.play(Tone.GOOD)
    player.play(Tone.BAD)
    assert player.played == [Tone.GOOD, Tone.BAD]


def test_no_sound_is_silent_and_never_fails(tmp_path):
    player = FeedbackPlayer(tmp_path / "unused", sound=False)
    player.play(Tone.BAD)
    assert player.sounds == {} and player.played == [Tone.BAD]
    assert not (tmp_path / "unused").exists()
    assert ui.Window is not None


def test_pointed_at_this_machine_the_site_list_looks_on_loopback_only():
    from terminal.launcher import browse_interfaces
    from terminal.net.discovery import ALL_INTERFACES

    assert browse_interfaces("http://127.0.0.1:8000") == ["127.0.0.1"]
    assert browse_interfaces("localhost:8000") == ["127.0.0.1"]
    assert browse_interfaces("http://192.168.1.20:8000") == ALL_INTERFACES
    assert browse_interfaces(None) == ALL_INTERFACES
