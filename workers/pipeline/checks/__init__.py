"""Per-sentence checks of a translation: flags a reader without Dutch can act on."""
