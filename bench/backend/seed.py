#!/usr/bin/env python3
"""Seeds a running HomeRack backend through its API for bench/backend-load.

usage: seed.py BASE_URL [RACKS] [DEVICES_PER_RACK]   (prints the rack ids, one per line)

Creates RACKS racks (default 10) with DEVICES_PER_RACK placed devices each (default 12, 1-2U,
specifications with real power figures), and a connection between neighbours, so that layout,
thermal and optimization requests have work to do. Uses only the standard library; sends
`Authorization: Bearer $HOMERACK_TOKEN` when that is set.
"""
import json
import os
import sys
import urllib.request

BASE = sys.argv[1].rstrip("/")
RACKS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
PER_RACK = int(sys.argv[3]) if len(sys.argv) > 3 else 12
TOKEN = os.environ.get("HOMERACK_TOKEN")


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if TOKEN:
        request.add_header("Authorization", "Bearer " + TOKEN)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


# Specifications are unique by brand and model: a per-run brand lets runs share a database.
BRAND = f"Bench {os.getpid()}"
specs = []
for index, (height, watts) in enumerate([(1, 150), (2, 450), (1, 80), (2, 900), (1, 300), (4, 1200)]):
    specs.append(call("POST", "/api/device-specs", {
        "brand": BRAND, "model": f"Model {index}", "height_u": height, "power_watts": watts,
        "weight_kg": 8 + 4 * height, "depth_mm": 600,
        "airflow_pattern": "front_to_back", "width_type": '19"'}))

rack_ids = []
for r in range(RACKS):
    rack = call("POST", "/api/racks", {"name": f"Bench rack {r}", "total_height_u": 42,
                                        "max_power_watts": 20000, "max_weight_kg": 1500,
                                        "cooling_capacity_btu": 60000})
    rack_ids.append(rack["id"])
    start_u, previous = 1, None
    for d in range(PER_RACK):
        spec = specs[d % len(specs)]
        access = ["low", "medium", "high"][d % 3]
        device = call("POST", "/api/devices", {"specification_id": spec["id"],
                                                "custom_name": f"r{r}-d{d}",
                                                "access_frequency": access})
        call("POST", f"/api/racks/{rack['id']}/positions", {"device_id": device["id"], "start_u": start_u})
        start_u += int(spec["height_u"])
        if previous is not None:
            call("POST", "/api/connections", {"from_device_id": previous, "to_device_id": device["id"],
                                              "cable_type": "Cat6"})
        previous = device["id"]

print("\n".join(str(i) for i in rack_ids))
