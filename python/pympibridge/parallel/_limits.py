"""Process limits a large cluster runs into: open files.

A client holds one socket per engine and the controller one per engine and client, so a cluster of a few thousand
engines needs more descriptors than the soft limit most systems start with (1024). The hard limit is the one the
administrator set; raising the soft limit up to it needs no privilege, so the controller and every client do it once.
"""

import logging

log = logging.getLogger("pympibridge.parallel")


def raise_open_files_limit():
    """Raises this process's soft limit on open files to its hard limit; returns the new soft limit (None if unknown)."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            return hard
        except (ValueError, OSError) as e:
            log.debug("could not raise the open files limit from %s to %s: %s", soft, hard, e)
    return soft
