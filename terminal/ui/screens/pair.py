"""Pair this handheld with the chosen site using a supervisor's one-time code.

After pairing the screen stays, showing how the handheld now reaches the site: over HTTPS the
site CA's fingerprint (`AB12 CD34 …`, to compare with what `aisleway edge tls init` and
`aisleway edge pair` printed: trust on first use, docs/security.md#tls-and-pinning), over plain
HTTP "not encrypted (http)". **Continue** goes on to the login; **Not the same: forget** drops
the pairing again. A server whose certificate changed after pairing brings the app back here
with the reason (`TERMINAL_SERVER_UNTRUSTED`); a new code pairs again.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from terminal.scanners.base import DecodedScan
from terminal.ui.screens.base import TerminalScreen
from terminal.ui.session import Trust
from terminal.workflows.base import Feedback, Tone

NOT_ENCRYPTED = "Not encrypted (http)."


class PairScreen(TerminalScreen):
    site = StringProperty("")
    #: True once paired: the trust is on show and the button continues to the login.
    done = BooleanProperty(False)
    #: "Site certificate fingerprint (SHA-256):" or the plain-HTTP note, when done
    trust_title = StringProperty("")
    #: The grouped fingerprint (`AB12 CD34 …`), "" over plain HTTP
    fingerprint = StringProperty("")
    encrypted = BooleanProperty(False)

    def on_pre_enter(self, *_: Any) -> None:
        self.reset()
        self.note("Ask a supervisor for a pairing code.")

    def reset(self) -> None:
        self.ids.code.text = ""
        self.done = False
        self.encrypted = False
        self.trust_title = ""
        self.fingerprint = ""

    def submit(self) -> None:
        if self.done:
            return
        code = self.ids.code.text.strip()
        if not code:
            self.ids.code.focus = True
            return
        self.note("Pairing…")
        self.app.run_async(lambda: self.app.backend.pair(code), self._paired, self._failed)

    def _paired(self, trust: Trust) -> None:
        self.ids.code.text = ""
        self.done = True
        self.encrypted = trust.encrypted
        if trust.encrypted:
            self.trust_title = "Site certificate fingerprint (SHA-256):"
            groups = trust.fingerprint.split()
            # Four groups a line: 16 groups of a SHA-256 read as four short rows.
            self.fingerprint = "\n".join(
                " ".join(groups[i : i + 4]) for i in range(0, len(groups), 4)
            )
            text = "Paired. Check the fingerprint is the one the supervisor has."
        else:
            self.trust_title = NOT_ENCRYPTED
            self.fingerprint = ""
            text = "Paired."
        self.show(Feedback(Tone.DONE, None, text))

    def proceed(self) -> None:
        """**Continue**: on to the login."""
        if self.done:
            self.app.paired()

    def forget(self) -> None:
        """**Not the same: forget**: the fingerprint is not the site's; drop the pairing."""
        if not self.done:
            return
        self.app.run_async(self.app.backend.unpair, self._forgotten, self._failed)

    def _forgotten(self, _: Any) -> None:
        self.reset()
        self.show(
            Feedback(
                Tone.BAD,
                None,
                "Pairing removed: this may not be your site's server. Tell a supervisor.",
            )
        )

    def _failed(self, exc: BaseException) -> None:
        self.ids.code.text = ""
        self.app.fail(self, exc)

    def on_scan(self, scan: DecodedScan) -> None:
        """The pairing code printed as a barcode pairs just like typing it."""
        if self.done:
            super().on_scan(scan)
            return
        self.ids.code.text = scan.text.strip()
        self.submit()
