"""One screen class per .kv file in `terminal/ui/kv/`: site, pair, login, menu, work."""

from terminal.ui.screens.base import TerminalScreen
from terminal.ui.screens.login import LoginScreen
from terminal.ui.screens.menu import MenuScreen
from terminal.ui.screens.pair import PairScreen
from terminal.ui.screens.site import SiteScreen
from terminal.ui.screens.work import WorkScreen

__all__ = ["LoginScreen", "MenuScreen", "PairScreen", "SiteScreen", "TerminalScreen", "WorkScreen"]
