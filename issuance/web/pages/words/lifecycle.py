"""Words of the lifecycle screens: key -> (English, Arabic)."""

WORDS: dict[str, tuple[str, str]] = {
}
