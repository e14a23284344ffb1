"""The instructor side of the course's exercises: student versions, grading, gradebook.

Kept out of the installed package (``coursepkg``) and out of the book: an
instructor keeps this folder, and above all its hidden checks, in a private
fork. The command line is ``python -m grading`` (see ``book/instructors.md``)::

    python -m grading student book/01_convolution.ipynb --out assignments/
    python -m grading grade submissions/ --chapter book/01_convolution.ipynb --out results/
    python -m grading exercises book/01_convolution.ipynb
"""

from grading.chapter import ExerciseCell, exercise_cells, student_version, write_student_version
from grading.grade import Grade, Settings, grade
from grading.points import Points, load_points

__all__ = [
    "ExerciseCell",
    "Grade",
    "Points",
    "Settings",
    "exercise_cells",
    "grade",
    "load_points",
    "student_version",
    "write_student_version",
]
