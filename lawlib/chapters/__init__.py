"""One module per chapter: the code that one chapter alone uses.

A notebook imports its own module, e.g. ``from lawlib.chapters import universal_law``;
what two or more chapters use lives in ``lawlib`` itself (the shared core).
"""

__all__: list[str] = []
