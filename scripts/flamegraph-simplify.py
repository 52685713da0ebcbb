#!/usr/bin/env python3
# Shortens folded stacks (inferno-collapse-perf output) for a flame graph small enough to commit:
# generic parameters and closure numbers removed, rayon/std plumbing frames dropped, frames cut at
# 100 characters. Used by scripts/flamegraph-validate.sh.
import sys,re,collections
agg=collections.Counter()
def simp(f):
    prev=None
    while prev!=f:
        prev=f; f=re.sub(r'<[^<>]*>','',f)
    f=re.sub(r'\{\{closure\}\}|\{closure#\d+\}|\{closure_env#\d+\}','{closure}',f)
    return f[:100]
for line in sys.stdin:
    stack,n=line.rstrip('\n').rsplit(' ',1)
    fr=[simp(x) for x in stack.split(';')]
    # drop rayon/tokio plumbing frames
    fr=[x for x in fr if not re.match(r'^(rayon|rayon_core|core::ops::function|std::panicking|std::panic|core::panic|__rust_try|std::sys|std::thread|core::iter)',x)]
    agg[';'.join(fr)]+=int(n)
for k,v in agg.items(): print(k,v)
