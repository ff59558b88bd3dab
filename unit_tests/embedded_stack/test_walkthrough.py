"""The walkthrough `make run` prints is the one README.md shows (embedded_stack.walkthrough holds its steps)."""

from __future__ import annotations

from pathlib import Path

from embedded_stack.walkthrough import STEPS, Step, render

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_shows_the_walkthrough_for_the_default_port() -> None:
    assert render("http://127.0.0.1:3000") in README.read_text()


def test_each_step_is_a_comment_then_its_commands_for_the_given_api() -> None:
    rendered = render("http://localhost:9", (Step("Say hi", "{curl} {api}/hi"),))

    assert rendered.splitlines()[0] == "API=http://localhost:9"
    assert rendered.endswith("# Say hi\ncurl -sw '\\n' $API/hi")


def test_every_step_says_what_it_does() -> None:
    assert all(step.comment and step.commands for step in STEPS)
