"""Words of the dashboard screens: key -> (English, Arabic)."""

WORDS: dict[str, tuple[str, str]] = {
}
