"""Scanner and handheld profiles (`firmware_configs/*.toml`): schema, loading, device match,
DataWedge rendering, and conversion into driver settings. No Kivy."""

from terminal.profiles.load import (
    LoadResult,
    Problem,
    ProfileError,
    default_profiles_dir,
    load_dir,
    load_file,
    load_files,
    parse_profile,
)
from terminal.profiles.model import SYMBOLOGIES, Profile

__all__ = [
    "SYMBOLOGIES",
    "LoadResult",
    "Problem",
    "Profile",
    "ProfileError",
    "default_profiles_dir",
    "load_dir",
    "load_file",
    "load_files",
    "parse_profile",
]
