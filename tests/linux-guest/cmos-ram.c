// cmos-ram: reads or writes bytes of the MC146818's battery-backed CMOS RAM
// through /dev/port (the kernel's I/O-port device; offset = port number),
// the RAM a PC's reset keeps.  The Linux guest's /init leaves a marker there
// before `reboot -f` and finds it on the boot that follows.
//
//   cmos-ram get INDEX          prints the byte at INDEX (0x0E-0x7F) in hex
//   cmos-ram set INDEX VALUE    writes VALUE (0-0xFF) at INDEX
//
// Port 0x70 selects the register (bit 7 is the NMI mask: left 0), port 0x71
// is the selected register (MC146818A data sheet; the PC/AT's RTC ports).
// Indexes 0x00-0x0D are the clock's own registers and are refused.  Nothing
// else touches the RTC while /init runs this (no RTC interrupt is enabled
// then), so the index/data pair needs no lock.
#define _XOPEN_SOURCE 700 // pread, pwrite
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PORT_RTC_INDEX 0x70
#define PORT_RTC_DATA 0x71
#define CMOS_FIRST_RAM 0x0E
#define CMOS_LAST_RAM 0x7F

static int parse_byte(const char *text, unsigned long min, unsigned long max, unsigned char *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 0);
	if (errno || end == text || *end || v < min || v > max)
		return -1;
	*out = (unsigned char)v;
	return 0;
}

static int port_io(int fd, int write_it, unsigned char *byte, off_t port)
{
	ssize_t n = write_it ? pwrite(fd, byte, 1, port) : pread(fd, byte, 1, port);

	if (n != 1) {
		fprintf(stderr, "cmos-ram: %s port 0x%lx: %s\n", write_it ? "writing" : "reading",
			(long)port, n < 0 ? strerror(errno) : "short access");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char index, value = 0;
	int set, fd;

	set = argc == 4 && strcmp(argv[1], "set") == 0;
	if (!(set || (argc == 3 && strcmp(argv[1], "get") == 0)) ||
	    parse_byte(argv[2], CMOS_FIRST_RAM, CMOS_LAST_RAM, &index) ||
	    (set && parse_byte(argv[3], 0, 0xFF, &value))) {
		fprintf(stderr, "usage: cmos-ram get INDEX | cmos-ram set INDEX VALUE "
				"(INDEX 0x0E-0x7F, VALUE 0-0xFF)\n");
		return 2;
	}
	fd = open("/dev/port", O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "cmos-ram: /dev/port: %s\n", strerror(errno));
		return 1;
	}
	if (port_io(fd, 1, &index, PORT_RTC_INDEX) || port_io(fd, set, &value, PORT_RTC_DATA))
		return 1;
	if (!set)
		printf("0x%02x\n", value);
	close(fd);
	return 0;
}
