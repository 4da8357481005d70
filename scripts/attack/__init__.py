"""Attack check for `apus serve --transport xdp` (scripts/attack-check.sh).

The driver (`python3 -m attack`, run from scripts/) brings up a testbed of its
own, starts a fresh server per attack, keeps a paced legitimate `apus bench`
load running from the client namespace, and runs each attack's worker
(`python3 -m attack.worker NAME PARAMS`) inside the client namespace, where it
crafts frames with `struct` on a raw AF_PACKET socket or opens kernel TCP
connections. Stdlib only.
"""
