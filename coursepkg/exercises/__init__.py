"""The exercises of every chapter, registered with :mod:`coursepkg.checking`.

One module per chapter (``convolution.py`` for book/01_convolution.ipynb, ...);
importing this package imports, and so registers, all of them. Instructors'
hidden checks live outside the package (``grading/``), so they are never
installed on a student's machine.
"""

import importlib
import pkgutil

__all__ = sorted(module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_"))

for _name in __all__:
    importlib.import_module(f"{__name__}.{_name}")
