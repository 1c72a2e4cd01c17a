"""Comparing error messages with scikit-learn's."""
import re


def norm_message(message):
    """An error message with every {a, b, ...} set listed in sorted order (the order of a
    set is not fixed between two equal sets, so two equal errors may list it differently)."""
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", ")))
                  + "}", str(message))
