"""Android entry point (buildozer needs `main.py` at the source root): the handheld app.
On Linux use `aisleway terminal`."""

from terminal.launcher import android_main

android_main()
