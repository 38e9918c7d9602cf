"""nbval runs a notebook's cells as consecutive tests in one kernel, so under pytest-xdist (``-n 2``) every
cell of a notebook must go to the same worker: the notebooks are shared out whole (xdist's ``loadfile``), not
cell by cell (its default, ``load``, which would run a cell in a kernel that has not run the cells before it)."""


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadFileScheduling

    return LoadFileScheduling(config, log)
