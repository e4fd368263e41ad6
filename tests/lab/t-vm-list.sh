# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016 # wait_for evaluates its quoted argument
# Run by tests/lab/run with tests/lab/lib.sh.
# vm list on pm1: vm1 (BIOS, boot + data), vm2 (UEFI, boot).
need_agent

j=$(cli pm1 --json vm list)
assert_eq 2 "$(json_get 'vms.#' "$j")" "number of VMs"
assert_eq bios "$(json_get 'vms[name=vm1].firmware' "$j")" "vm1 firmware"
assert_eq 2 "$(json_get 'vms[name=vm1].volumes.#' "$j")" "vm1 volumes"
assert_eq true "$(json_get 'vms[name=vm1].volumes[name=boot].boot' "$j")" "vm1 boot volume is boot"
assert_eq false "$(json_get 'vms[name=vm1].volumes[name=data].boot' "$j")" "vm1 data volume is not boot"
assert_eq "$LAB/pm1/store/vm1-boot.img" "$(json_get 'vms[name=vm1].volumes[name=boot].path' "$j")" "vm1 boot path"
assert_eq "$LAB/pm1/store/vm1-data.img" "$(json_get 'vms[name=vm1].volumes[name=data].path' "$j")" "vm1 data path"
assert_eq uefi "$(json_get 'vms[name=vm2].firmware' "$j")" "vm2 firmware"
assert_eq 1 "$(json_get 'vms[name=vm2].volumes.#' "$j")" "vm2 volumes"
assert_eq true "$(json_get 'vms[name=vm2].volumes[name=boot].boot' "$j")" "vm2 boot volume is boot"
