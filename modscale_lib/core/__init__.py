"""What every part of the library shares and no part of the book is about: validation (one declarative
mechanism for functions and configs), seeding (one random stream per tuple of seed parts) and the intervals
over seeds that every confidence interval of the book comes from. Numpy and scipy only; it imports nothing
else of the library."""

from ._intervals import *  # noqa: F403
from ._intervals import __all__ as _intervals_all
from ._seeding import *  # noqa: F403
from ._seeding import __all__ as _seeding_all
from ._validation import *  # noqa: F403
from ._validation import __all__ as _validation_all

__all__ = [*_validation_all, *_seeding_all, *_intervals_all]
