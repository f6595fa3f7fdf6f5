"""``python -m ovnctl``: the same entry point as the ``ovnctl`` console script."""

from ovnctl.cli import main

if __name__ == "__main__":
    main()
