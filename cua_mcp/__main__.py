import sys

from cua_mcp.server.cli import main

sys.exit(main())
