"""Words of the operators screens: key -> (English, Arabic)."""

WORDS: dict[str, tuple[str, str]] = {
}
