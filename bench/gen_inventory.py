#!/usr/bin/env python3
"""Writes a number inventory CSV in ccadmin's import format, for bench/search.sh.

    bench/gen_inventory.py [-n N] [--seed S] [-o FILE]

N distinct numbers (default 1,000,000), deterministic for a given seed, in a random
order, with the header phoneNumber,countryCode,type,areaCode,documentationRequired.
The mix is meant to look like a real inventory and to pass the numbering-plan check:

  share  country/type   numbers
  80 %   US LOCAL       +1 NPA NXX XXXX over 100 real US area codes (the first ten
                        weigh 4x, so e.g. 212 is a "common" area code), exchange 200-999
   5 %   US TOLLFREE    +1 800/833/844/855/866/877/888 NXX XXXX
   6 %   CA LOCAL       +1 416/647/604/514/403/613/905/780/778/587 NXX XXXX
   3 %   GB LOCAL       +44 20 [378]XXXXXXX (London)
   3 %   DE LOCAL       +49 30 [1-9]XXXXXXX (Berlin)
   3 %   IN LOCAL       +91 20 or 22 [2-6]XXXXXXX (Pune, Mumbai)

areaCode is the NANP area code, or the national destination code (20, 30, 22);
documentationRequired follows the demo's rules (src/inventory.rs). A few numbers may
still fail the plan check (ranges the plan does not assign): the import reports them.
Prints a summary per country and type on stderr. Standard library only.
"""

import argparse
import random
import sys

US_AREA_CODES = (
    # the ten "common" ones first (weighted 4x)
    "212 213 312 415 617 713 305 404 206 702 "
    "201 202 203 205 207 208 209 210 214 215 216 217 218 219 224 225 228 229 231 234 "
    "239 240 248 251 252 253 254 256 260 262 267 269 270 276 281 301 302 303 304 307 "
    "308 309 310 313 314 315 316 317 318 319 320 321 323 330 334 336 337 339 347 352 "
    "360 361 386 401 402 405 406 407 408 409 410 412 413 414 417 419 423 424 425 432 "
    "480 502 503 504 505 510 512 513 515 516"
).split()
assert len(US_AREA_CODES) == 100 and len(set(US_AREA_CODES)) == 100
COMMON = 10
CA_AREA_CODES = "416 647 604 514 403 613 905 780 778 587".split()
TOLL_FREE = "800 833 844 855 866 877 888".split()

# (weight, country, type, documentationRequired, generator(rng) -> (number, areaCode))
def nanp(areas, weights=None):
    def gen(rng):
        area = rng.choices(areas, weights)[0] if weights else rng.choice(areas)
        return f"+1{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}", area
    return gen


def gb(rng):
    return f"+4420{rng.choice('378')}{rng.randint(0, 9_999_999):07d}", "20"


def de(rng):
    return f"+4930{rng.randint(1, 9)}{rng.randint(0, 9_999_999):07d}", "30"


def india(rng):
    area = rng.choice(("20", "22"))
    return f"+91{area}{rng.randint(2, 6)}{rng.randint(0, 9_999_999):07d}", area


MIX = [
    (80, "US", "LOCAL", False, nanp(US_AREA_CODES, [4] * COMMON + [1] * (100 - COMMON))),
    (5, "US", "TOLLFREE", False, nanp(TOLL_FREE)),
    (6, "CA", "LOCAL", True, nanp(CA_AREA_CODES)),
    (3, "GB", "LOCAL", False, gb),
    (3, "DE", "LOCAL", True, de),
    (3, "IN", "LOCAL", True, india),
]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-n", type=int, default=1_000_000, help="numbers to write (default 1000000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("-o", "--output", default="-", help="file to write (default stdout)")
    a = p.parse_args()
    if a.n < 1:
        p.error("-n must be positive")
    rng = random.Random(a.seed)
    weights = [m[0] for m in MIX]
    seen = set()
    counts = {}
    out = sys.stdout if a.output == "-" else open(a.output, "w", encoding="ascii", newline="\n")
    buf = ["phoneNumber,countryCode,type,areaCode,documentationRequired"]
    # The kind of every row is drawn up front (one call), then numbers until distinct.
    for _, country, t, docs, gen in rng.choices(MIX, weights, k=a.n):
        while True:
            number, area = gen(rng)
            if number not in seen:
                break
        seen.add(number)
        counts[(country, t)] = counts.get((country, t), 0) + 1
        buf.append(f"{number},{country},{t},{area},{'true' if docs else 'false'}")
        if len(buf) >= 100_000:
            out.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        out.write("\n".join(buf) + "\n")
    if out is not sys.stdout:
        out.close()
    summary = ", ".join(f"{c} {t} {n}" for (c, t), n in sorted(counts.items()))
    print(f"gen_inventory: {a.n} numbers (seed {a.seed}): {summary}", file=sys.stderr)


if __name__ == "__main__":
    main()
