"""What may be shown: disclosure control of published counts (the cell key method)."""

from spatial.privacy.disclosure import (
    KEY_MODULUS,
    CellKeyPerturbation,
    cell_keys,
    combine_keys,
)

__all__ = [
    "KEY_MODULUS",
    "CellKeyPerturbation",
    "cell_keys",
    "combine_keys",
]
