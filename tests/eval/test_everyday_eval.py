"""The everyday-chatter measurement reads the corpus layouts it names (tests/eval/everyday_eval.py)."""

from __future__ import annotations

from pathlib import Path

from tests.eval.everyday_eval import conversations, language_of


def test_the_yaml_layout_gives_each_conversation_its_lines_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "french"
    folder.mkdir(parents=True)
    corpus = folder / "greetings.yml"
    corpus.write_text(
        "categories:\n- greetings\nconversations:\n"
        "- - Bonjour\n  - 'Salut, ça va ?'\n  - Oui\n- - \"Bonsoir\"\n  - Bonne nuit\n",
        encoding="utf-8",
    )
    assert conversations(corpus) == [["Bonjour", "Salut, ça va ?", "Oui"], ["Bonsoir", "Bonne nuit"]]
    assert language_of(corpus) == "fr"
    assert language_of(tmp_path / "data" / "english" / "food.yml") == "en"
    assert language_of(tmp_path / "data" / "spanish" / "food.yml") is None  # another language: not read


def test_a_text_file_is_one_conversation_of_its_non_empty_lines(tmp_path: Path) -> None:
    chat = tmp_path / "chat.fr.txt"
    chat.write_text("premier\n\n  deuxième  \n", encoding="utf-8")
    assert conversations(chat) == [["premier", "deuxième"]]
    assert (language_of(chat), language_of(tmp_path / "chat.txt")) == ("fr", "en")
