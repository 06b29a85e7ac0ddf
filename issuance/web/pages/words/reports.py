"""Words of the reports screens: key -> (English, Arabic)."""

WORDS: dict[str, tuple[str, str]] = {
}
