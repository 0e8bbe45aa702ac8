"""The linear congruential generator of ``java.util.Random``, bit for bit.

OpenML's landmarkers are Weka cross-validations seeded with ``new java.util.Random(1)``;
drawing the same numbers is what lets us put every row in the same fold as OpenML did.
The generator is specified in the Java API documentation (48-bit LCG, multiplier
0x5DEECE66D, increment 11), so this is a re-statement of that specification.
"""

from __future__ import annotations

__all__ = ["JavaRandom"]

_MULTIPLIER = 0x5DEECE66D
_INCREMENT = 0xB
_MASK_48_BITS = (1 << 48) - 1
_INT_OVERFLOW = 1 << 31  # Java's int arithmetic wraps at 2**31


class JavaRandom:
    """The subset of ``java.util.Random`` Weka's cross-validation uses (``nextInt(bound)``)."""

    def __init__(self, seed: int) -> None:
        self._state = (seed ^ _MULTIPLIER) & _MASK_48_BITS

    def _next_bits(self, bits: int) -> int:
        self._state = (self._state * _MULTIPLIER + _INCREMENT) & _MASK_48_BITS
        return self._state >> (48 - bits)

    def next_int(self, bound: int) -> int:
        """A uniform integer in ``[0, bound)``, the same one Java returns for this state."""
        if bound <= 0:
            raise ValueError(f"bound must be positive, got {bound}")
        random_bits = self._next_bits(31)
        if bound & (bound - 1) == 0:  # a power of two: Java takes the high bits
            return (bound * random_bits) >> 31
        value = random_bits % bound
        # Java rejects draws from the incomplete last block; the test is written with int
        # overflow in Java, which is "the sum reaches 2**31" here.
        while random_bits - value + (bound - 1) >= _INT_OVERFLOW:
            random_bits = self._next_bits(31)
            value = random_bits % bound
        return value
