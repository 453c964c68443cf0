"""The PyTorch reference loop for the MNIST throughput benchmark (bench/sampling.ts, "MNIST throughput").

Runs the shipped MNIST network (models/mnist/weights.pt, definition tools/train/unet.py) along the
same plan as the SDK: x_0 ~ N(0, I), then for k = 0..steps-1

    eps_k   = net(x_k, time_input_k)
    x_{k+1} = row_k[0] * x_k + sum_j row_k[1 + j] * eps_{k-j}      (newest first, warm start zero-padded)

in float32 under torch.no_grad(), with torch.set_num_threads(T). The plan (rows, time inputs) comes
from a JSON file (or stdin) that the TypeScript side writes:

    {"steps": 10, "rows": [[x_coef, c0, c1, c2, c3], ...], "timeInputs": [999 t_0, ...]}

Modes:
  python3 bench/torch_loop.py --plan plan.json --threads 2 --batch 16 [--repeats 5] [--warmup 1]
      warm-up runs, then timed repeats; prints one JSON object.
  python3 bench/torch_loop.py --plan plan.json --threads 2 --serve
      reads one JSON command per stdin line, {"batch": B, "warmup": W, "init"?: [x_T]}, runs W untimed
      loops and one timed loop (from x_T when given, and then returns the samples as "x"), prints one JSON line per command ({"batch", "total", "network", "update"} in ms);
      the benchmark drives it interleaved with the SDK's worker processes. EOF ends it.
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))

import torch  # noqa: E402

from unet import UNet  # noqa: E402


def load_net(weights):
    ck = torch.load(weights, map_location="cpu")
    net = UNet(**ck["config"])
    net.load_state_dict(ck["state_dict"])
    net.eval()
    return net.float()


def run_loop(net, plan, batch, gen, init=None):
    """One sampling run; returns (total_ms, network_ms, samples). `init`: x_T instead of N(0, I)."""
    rows = plan["rows"]
    tin = plan["timeInputs"]
    steps = plan["steps"]
    t0 = time.perf_counter()
    network = 0.0
    if init is None:
        x = torch.randn(batch, 1, 28, 28, generator=gen, dtype=torch.float32)
    else:
        x = torch.tensor(init, dtype=torch.float32).reshape(batch, 1, 28, 28)
    ring = []  # newest first
    for k in range(steps):
        tt = torch.full((batch,), float(tin[k]), dtype=torch.float32)
        n0 = time.perf_counter()
        eps = net(x, tt)
        network += time.perf_counter() - n0
        ring.insert(0, eps)
        if len(ring) > 4:
            ring.pop()
        row = rows[k]
        nxt = x * row[0]
        for j in range(min(len(row) - 1, len(ring))):
            c = row[j + 1]
            if c != 0.0:
                nxt = nxt.add_(ring[j], alpha=c)
        x = nxt
    total = time.perf_counter() - t0
    return total * 1e3, network * 1e3, x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", default="-", help="plan JSON file, or - for stdin (not with --serve)")
    ap.add_argument("--weights", default=os.path.join(ROOT, "models", "mnist", "weights.pt"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--serve", action="store_true")
    a = ap.parse_args()
    if a.serve and a.plan == "-":
        ap.error("--serve reads commands from stdin: give the plan with --plan FILE")
    plan = json.load(sys.stdin if a.plan == "-" else open(a.plan))
    if len(plan["rows"]) != plan["steps"] or len(plan["timeInputs"]) < plan["steps"]:
        ap.error("plan: rows and timeInputs must have `steps` entries")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    net = load_net(a.weights)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "steps": plan["steps"]}
    with torch.no_grad():
        if a.serve:
            print(json.dumps({"ready": True, **info}), flush=True)
            for line in sys.stdin:
                if not line.strip():
                    continue
                cmd = json.loads(line)
                b = int(cmd["batch"])
                for _ in range(int(cmd.get("warmup", 0))):
                    run_loop(net, plan, b, gen)
                total, network, x = run_loop(net, plan, b, gen, cmd.get("init"))
                out = {"batch": b, "total": total, "network": network, "update": total - network,
                       "finite": bool(torch.isfinite(x).all())}
                if cmd.get("init") is not None:
                    out["x"] = x.flatten().tolist()
                print(json.dumps(out), flush=True)
            return
        for _ in range(a.warmup):
            run_loop(net, plan, a.batch, gen)
        runs = [run_loop(net, plan, a.batch, gen)[:2] for _ in range(a.repeats)]
    totals = sorted(r[0] for r in runs)
    med = totals[len(totals) // 2]
    print(json.dumps({**info, "batch": a.batch, "repeats": a.repeats, "totalMs": [r[0] for r in runs],
                      "networkMs": [r[1] for r in runs], "medianTotalMs": med,
                      "msPerSampleEval": med / (plan["steps"] * a.batch)}))


if __name__ == "__main__":
    main()
