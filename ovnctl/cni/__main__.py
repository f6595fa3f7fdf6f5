"""``python -m ovnctl.cni``: the plugin without the CLI's imports (what the node wrapper execs)."""

import sys

from ovnctl.cni.plugin import main

if __name__ == "__main__":
    sys.exit(main())
