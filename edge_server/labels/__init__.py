"""Labels: ZPL for LPN and bin labels, printers and the print queue, previews."""

from edge_server.labels.printers import PrintSpooler, print_lpn_label, queue_lpn_label

__all__ = ["PrintSpooler", "print_lpn_label", "queue_lpn_label"]
