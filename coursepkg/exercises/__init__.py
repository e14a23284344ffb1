"""The exercises of every chapter, registered with :mod:`coursepkg.checking`.

Each module holds the student-visible checks of one chapter. Instructors'
hidden checks live outside the package (``grading/``), so they are never
installed on a student's machine.
"""

from coursepkg.exercises import convolution

__all__ = ["convolution"]
