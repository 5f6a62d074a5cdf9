# Builds the Linux guest's initramfs (sourced by tests/linux-guest/run and
# tools/bench): the static helpers, then an uncompressed cpio (gen_init_cpio
# needs no root for /dev/console) with busybox, the helpers and a given /init.
#
#   linux_guest_initrd OUT KDIR INIT CPIO
#
# OUT holds the built helpers; KDIR is the built kernel tree (its
# usr/gen_init_cpio).  Returns non-zero with a message on stderr on failure.

linux_guest_initrd() {
	local out=$1 kdir=$2 init=$3 cpio=$4
	local root src testbed gen_cpio busybox prog applet d
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	src="$root/tests/linux-guest"
	testbed="$root/tests/linux"
	gen_cpio="$kdir/usr/gen_init_cpio"
	busybox=/bin/busybox
	[ -x "$gen_cpio" ] || { echo "$gen_cpio is missing (is $kdir a built kernel tree?)" >&2; return 1; }
	[ -x "$busybox" ] && ! readelf -l "$busybox" 2>/dev/null | grep -q INTERP ||
		{ echo "$busybox is not a static busybox (apt-get install busybox-static)" >&2; return 1; }
	# Static user-space helpers: this test's own, and two of the cvisor.ko
	# test bed's (workload, tcdrain).  tsc needs no libc.
	linux_guest_helper() { # NAME SOURCE [EXTRA CFLAGS...]
		local name=$1 source=$2
		shift 2
		if [ ! -x "$out/$name" ] || [ "$source" -nt "$out/$name" ]; then
			echo "  CC      $out/$name"
			gcc -static -O2 -std=c11 -Wall -Wextra -Werror -s "$@" -o "$out/$name" "$source" ||
				{ echo "cannot build $name (static glibc: apt-get install libc6-dev)" >&2; return 1; }
		fi
	}
	for prog in ipi-pingpong memory-check rtc-update-irq cmos-ram; do
		linux_guest_helper "$prog" "$src/$prog.c" || return 1
	done
	linux_guest_helper tsc "$src/tsc.c" -nostdlib -fno-stack-protector -fno-pie -no-pie || return 1
	for prog in workload tcdrain; do
		linux_guest_helper "$prog" "$testbed/$prog.c" || return 1
	done
	{
		echo "dir /dev 0755 0 0"
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "nod /dev/null 0666 0 0 c 1 3"
		for d in bin proc sys tmp; do echo "dir /$d 0755 0 0"; done
		echo "file /init $init 0755 0 0"
		echo "file /bin/busybox $busybox 0755 0 0"
		for applet in sh awk cat cut date devmem dmesg echo grep head ls mount poweroff \
			printf reboot sed sleep tail timeout tr true uname wc; do
			echo "slink /bin/$applet busybox 0777 0 0"
		done
		for prog in ipi-pingpong memory-check rtc-update-irq cmos-ram tsc workload tcdrain; do
			echo "file /bin/$prog $out/$prog 0755 0 0"
		done
	} >"$cpio.list"
	"$gen_cpio" "$cpio.list" >"$cpio" || { echo "gen_init_cpio failed" >&2; return 1; }
}
