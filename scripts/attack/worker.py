"""Runs one attack inside the client namespace:

    python3 -m attack.worker NAME 'PARAMS-JSON'

PARAMS carries `env` (interface, addresses, MACs, port) and the attack's own
parameters. Prints `MARK phase` lines as phases begin and one `RESULT {json}`."""
import json
import sys
import traceback

from . import conns, floods, inject

WORKERS = {
    "syn-flood": floods.syn_flood,
    "forged-cookies": floods.forged_cookies,
    "odd-syns": floods.odd_syns,
    "arp-spoof": floods.arp_spoof,
    "isn-predict": floods.isn_predict,
    "tcp-inject": inject.tcp_inject,
    "idle-conns": conns.idle_conns,
    "slowloris": conns.slowloris,
    "unframed-trickle": conns.unframed_trickle,
    "reply-amplify": conns.reply_amplify,
    "zero-window": conns.zero_window,
    "probe": conns.probe,
}


def main(argv):
    if len(argv) != 3 or argv[1] not in WORKERS:
        print(f"usage: python3 -m attack.worker {'|'.join(WORKERS)} PARAMS-JSON", file=sys.stderr)
        return 64
    params = json.loads(argv[2])
    try:
        result = WORKERS[argv[1]](params["env"], params)
    except Exception as error:  # reported to the driver as the attack's result
        traceback.print_exc()
        result = {"error": f"{type(error).__name__}: {error}"}
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
