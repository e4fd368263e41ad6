/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the libvirt domain XML reading (adapters/hv): firmware, volumes, boot. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <string.h>

#include "adapters/hv.h"
#include "check_common.h"

START_TEST(test_bios_with_serials_and_boot_order)
{
	static const char xml[] =
		"<domain type='test'><name>vm1</name><os><type>hvm</type></os><devices>"
		"<disk type='file' device='cdrom'><source file='/iso/x.iso'/>"
		"<target dev='hdc'/></disk>"
		"<disk type='file' device='disk'><source file='/store/vm1-data.img'/>"
		"<target dev='vdb'/><serial>data</serial><boot order='2'/></disk>"
		"<disk type='block' device='disk'><source dev='/dev/drbd0'/>"
		"<target dev='vda'/><serial>boot</serial><boot order='1'/></disk>"
		"</devices></domain>";
	struct ts_vm vm;

	ck_assert_int_eq(ts_hv_parse_domain_xml(xml, &vm), 0);
	ck_assert_str_eq(vm.name, "vm1");
	ck_assert(!vm.uefi);
	ck_assert_uint_eq(vm.n_volumes, 2);
	ck_assert_str_eq(vm.volumes[0].name, "data");
	ck_assert(!vm.volumes[0].boot);
	ck_assert_str_eq(vm.volumes[0].path, "/store/vm1-data.img");
	ck_assert_str_eq(vm.volumes[1].name, "boot");
	ck_assert(vm.volumes[1].boot);
	ck_assert_str_eq(vm.volumes[1].path, "/dev/drbd0");
	ck_assert_str_eq(vm.volumes[1].target, "vda");
}
END_TEST

START_TEST(test_uefi_by_firmware_or_pflash)
{
	static const char efi[] =
		"<domain type='test'><name>vm2</name><os firmware='efi'><type>hvm</type></os>"
		"<devices><disk device='disk'><source file='/s/b.img'/><target dev='vda'/>"
		"</disk></devices></domain>";
	static const char pflash[] =
		"<domain type='kvm'><name>vm3</name><os><type>hvm</type>"
		"<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader></os>"
		"<devices/></domain>";
	struct ts_vm vm;

	ck_assert_int_eq(ts_hv_parse_domain_xml(efi, &vm), 0);
	ck_assert(vm.uefi);
	/* No serial, no boot order: named by target, the first disk boots. */
	ck_assert_uint_eq(vm.n_volumes, 1);
	ck_assert_str_eq(vm.volumes[0].name, "vda");
	ck_assert(vm.volumes[0].boot);
	ck_assert_int_eq(ts_hv_parse_domain_xml(pflash, &vm), 0);
	ck_assert(vm.uefi);
	ck_assert_uint_eq(vm.n_volumes, 0);
}
END_TEST

START_TEST(test_bad_xml_rejected)
{
	struct ts_vm vm;

	ck_assert_int_eq(ts_hv_parse_domain_xml("<domain><name>x</name>", &vm), -EINVAL);
	ck_assert_int_eq(ts_hv_parse_domain_xml("", &vm), -EINVAL);
	ck_assert_int_eq(ts_hv_parse_domain_xml("<domain/>", &vm), -EINVAL);
	/* An external entity is never fetched. */
	ck_assert_int_eq(ts_hv_parse_domain_xml(
		"<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
		"<domain><name>&e;</name></domain>", &vm), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hv");

	TS_ADD_TEST(s, test_bios_with_serials_and_boot_order);
	TS_ADD_TEST(s, test_uefi_by_firmware_or_pflash);
	TS_ADD_TEST(s, test_bad_xml_rejected);
	return ts_run_suite(s);
}
