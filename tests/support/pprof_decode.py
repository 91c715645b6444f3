"""Decodes a gzipped pprof CPU profile with pprof's own profile.proto.

Usage: pprof_decode.py PROFILE_PROTO PROFILE_PB_GZ
Compiles PROFILE_PROTO with grpcio-tools' protoc into a temporary folder, parses the
profile with the generated `perftools.profiles.Profile`, and prints one JSON object:
the sample types, the number of samples, the total of the first value, the period,
the duration, and every function name that appears in a sample's stack.
"""
import gzip
import importlib
import json
import os
import sys
import tempfile

from grpc_tools import protoc


def main():
    proto, profile_path = sys.argv[1], sys.argv[2]
    out = tempfile.mkdtemp()
    include = os.path.dirname(os.path.abspath(proto))
    code = protoc.main(["protoc", f"-I{include}", f"--python_out={out}", os.path.abspath(proto)])
    if code != 0:
        sys.exit(f"protoc failed with {code}")
    sys.path.insert(0, out)
    module = importlib.import_module(os.path.splitext(os.path.basename(proto))[0] + "_pb2")
    with open(profile_path, "rb") as f:
        raw = gzip.decompress(f.read())
    p = module.Profile()
    p.ParseFromString(raw)
    strings = list(p.string_table)
    functions = {f.id: strings[f.name] for f in p.function}
    locations = {l.id: [functions.get(line.function_id, "") for line in l.line] for l in p.location}
    seen = set()
    for s in p.sample:
        for loc in s.location_id:
            seen.update(locations.get(loc, []))
    print(json.dumps({
        # The `pprof` crate's copy names the field `ty` (`type` is a Rust keyword); same
        # field number, same wire format.
        "sample_types": [[strings[getattr(t, "type", None) or t.ty], strings[t.unit]] for t in p.sample_type],
        "samples": len(p.sample),
        "value_total": sum(s.value[0] for s in p.sample if s.value),
        "period": p.period,
        "duration_nanos": p.duration_nanos,
        "functions": sorted(seen),
    }))


if __name__ == "__main__":
    main()
