#!/usr/bin/env python3
"""What a C program gets from each C-usable header of an include folder, and a check of it.

  decls.py extract INCDIR H1 H2 ... > list    names (and prototypes, sizes, values) per header
  decls.py check INCDIR list                  compile a C file against INCDIR that uses every
                                              item of the list; exit 1 when one is missing or
                                              differs (prints the compiler's complaints)

The list of the original library was made with `extract` from its installed headers
(c-tests/headers/original-k2hash.txt, original-chmpx.txt); `make test-c` checks our installed
headers against it. DECLS_CFLAGS adds compiler flags (chmpx.h includes <k2hash/k2hash.h>, so its
folder's parent goes there as -I).
Items: func NAME <prototype as a function-pointer type>, macro NAME [integer value],
typedef NAME [sizeof], enumconst NAME value, tag struct|union|enum NAME.
"""
import os, re, subprocess, sys, tempfile

PRELUDE = "".join(f"#include <{h}>\n" for h in
                  ["stdbool.h", "stdio.h", "stdint.h", "stddef.h", "sys/types.h", "sys/time.h", "time.h"])
CC = os.environ.get("CC", "cc")
# More compiler flags (e.g. "-I <prefix>/include" for a header that includes <k2hash/k2hash.h>).
EXTRA = os.environ.get("DECLS_CFLAGS", "").split()


def run(args, src):
    """Run the compiler with `args` on the C source `src` (in a scratch folder)."""
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.c")
        open(p, "w").write(src)
        return subprocess.run([CC] + EXTRA + args + [p], capture_output=True, text=True, cwd=d)


def cc_out(args, src):
    """What the compiler prints for `src`; the compiler must succeed."""
    r = run(args, src)
    if r.returncode != 0:
        sys.exit(f"compiler failed:\n{r.stderr}")
    return r.stdout


def own_lines(pre, header):
    """Preprocessed text that comes from `header` itself."""
    out, mine = [], False
    for line in pre.split("\n"):
        m = re.match(r'^# \d+ "([^"]+)"', line)
        if m:
            mine = os.path.basename(m.group(1)) == header
            continue
        if mine:
            out.append(line)
    return "\n".join(out)


def try_compile(inc, body):
    r = run(["-std=gnu11", "-fsyntax-only", "-I", inc], PRELUDE + body)
    return r.returncode == 0


def extract(inc, headers):
    base = set(cc_out(["-E", "-dM", "-I", inc], PRELUDE).split("\n"))
    for h in headers:
        tu = PRELUDE + f"#include <{h}>\n"
        items = []
        # functions, with their prototypes (gcc -aux-info)
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "t.c")
            open(p, "w").write(tu)
            aux = os.path.join(d, "aux.txt")
            subprocess.run([CC] + EXTRA + ["-std=gnu11", "-fsyntax-only", "-I", inc, "-aux-info", aux, p], check=True)
            for line in open(aux):
                m = re.match(r"/\* (\S+):\d+:\S+ \*/ (.*);$", line.strip())
                if not m or os.path.basename(m.group(1)) != h:
                    continue
                decl = re.sub(r"^extern ", "", m.group(2))
                fm = re.match(r"^(.*?)\b(\w+) \((.*)\)$", decl)
                if not fm:
                    continue
                ret, name, args = fm.group(1).strip(), fm.group(2), fm.group(3)
                items.append(f"func {name} {ret} (*)({args})")
        # macros the header itself defines (what it pulls from system headers is not its own)
        own = set(re.findall(r"^\s*#\s*define\s+(\w+)", open(os.path.join(inc, h)).read(), re.M))
        for line in cc_out(["-E", "-dM", "-I", inc], tu).split("\n"):
            if not line or line in base or line.split(" ")[1].split("(")[0] not in own:
                continue
            m = re.match(r"#define (\w+)(\(?)\s*(.*)$", line)
            if not m:
                continue
            name, fn, val = m.groups()
            v = val.strip()
            if not fn and re.fullmatch(r"\(?-?(0x[0-9a-fA-F]+|\d+)[uUlL]*\)?", v):
                items.append(f"macro {name} {v}")
            else:
                items.append(f"macro {name}")
        # typedefs, tags and enum constants declared by the header itself
        text = own_lines(cc_out(["-E", "-I", inc], tu), h)
        text = re.sub(r"__attribute__\s*\(\(.*?\)\)", "", text)
        for m in re.finditer(r"\b(struct|union|enum)\s+(\w+)\s*\{", text):
            items.append(f"tag {m.group(1)} {m.group(2)}")
        for m in re.finditer(r"\benum\b[^{;]*\{([^}]*)\}", text):
            for c in m.group(1).split(","):
                c = c.strip()
                if c:
                    items.append(f"enumconst {c.split('=')[0].strip()}")
        names = set()
        for m in re.finditer(r"\btypedef\b", text):
            depth, flat = 0, ""
            for ch in text[m.end():]:
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    flat += " "
                    continue
                elif ch == ";" and depth == 0:
                    break
                if depth == 0:
                    flat += ch
            fp = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", flat)
            if fp:
                names.add(fp.group(1))
                continue
            for part in flat.split(","):
                w = re.findall(r"\w+", part)
                if w:
                    names.add(w[-1])
        for n in sorted(names):
            size = cc_size(inc, tu, n)
            items.append(f"typedef {n}" + (f" {size}" if size is not None else ""))
        # enum constant values
        final = []
        for it in items:
            if it.startswith("enumconst "):
                n = it.split()[1]
                final.append(f"enumconst {n} {cc_value(inc, tu, n)}")
            else:
                final.append(it)
        for it in dict.fromkeys(final):
            print(f"{h} {it}")


def cc_value(inc, tu, expr):
    out = run_prog(inc, tu, f'printf("%lld", (long long)({expr}));')
    return out


def cc_size(inc, tu, name):
    if not try_compile(inc, tu.replace(PRELUDE, "") + f"static char x[sizeof({name})];\n"):
        return None
    return run_prog(inc, tu, f'printf("%zu", sizeof({name}));')


def run_prog(inc, tu, stmt):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.c")
        open(p, "w").write(tu + "int main(void){" + stmt + "return 0;}\n")
        exe = os.path.join(d, "t")
        subprocess.run([CC] + EXTRA + ["-std=gnu11", "-I", inc, "-o", exe, p], check=True, capture_output=True)
        return subprocess.run([exe], capture_output=True, text=True, check=True).stdout


def check(inc, listfile):
    by_header = {}
    for line in open(listfile):
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            h, rest = line.split(" ", 1)
            by_header.setdefault(h, []).append(rest)
    bad = 0
    total = 0
    for h, items in by_header.items():
        src = [PRELUDE, f"#include <{h}>\n"]
        body = []
        for i, it in enumerate(items):
            kind, rest = it.split(" ", 1)
            if kind == "func":
                name, proto = rest.split(" ", 1)
                body.append(f"_Static_assert(__builtin_types_compatible_p(__typeof__(&{name}), {proto}), "
                            f"\"{h}: function {name} differs from {proto}\");")
            elif kind == "macro":
                parts = rest.split(" ", 1)
                src.append(f"#ifndef {parts[0]}\n#error \"{h}: macro {parts[0]} missing\"\n#endif\n")
                if len(parts) == 2:
                    body.append(f"_Static_assert(({parts[0]}) == ({parts[1]}), \"{h}: macro {parts[0]} != {parts[1]}\");")
            elif kind == "typedef":
                parts = rest.split(" ")
                body.append(f"typedef {parts[0]} t_{i};")
                if len(parts) == 2:
                    body.append(f"_Static_assert(sizeof({parts[0]}) == {parts[1]}, \"{h}: sizeof {parts[0]} != {parts[1]}\");")
            elif kind == "enumconst":
                n, v = rest.split(" ")
                body.append(f"_Static_assert(({n}) == ({v}), \"{h}: enum constant {n} != {v}\");")
            elif kind == "tag":
                k, n = rest.split(" ")
                body.append(f"{k} {n} *g_{i};")
            total += 1
        code = "".join(src) + "\n".join(body) + "\n"
        r = run(["-std=gnu11", "-fsyntax-only", "-Werror=implicit-function-declaration",
                    "-fmax-errors=0", "-I", inc], code)
        if r.returncode != 0:
            errs = [l for l in r.stderr.split("\n") if "error" in l]
            print(f"{h}: {len(errs)} problems")
            for e in errs[:80]:
                print("  " + e.split("error: ", 1)[-1])
            bad += 1
    print(f"headers: {len(by_header)} headers, {total} declarations checked, {bad} headers with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "extract":
        extract(os.path.abspath(sys.argv[2]), sys.argv[3:])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(os.path.abspath(sys.argv[2]), sys.argv[3]))
    else:
        sys.exit(__doc__)
