// tsc: prints the time-stamp counter (RDTSC) in decimal and a newline.
// Built without libc (-nostdlib -static) so it adds about a kilobyte to the
// initramfs.  Under cvisor the guest's TSC is the host's, and Bochs's TSC
// counts instructions: /init prints it to measure its boot and its checks.
typedef unsigned long u64;

static long sys_call3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

#define SYS_WRITE 1
#define SYS_EXIT 60

void _start(void) __attribute__((noreturn));
void _start(void)
{
	unsigned lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	u64 tsc = ((u64)hi << 32) | lo;
	char buf[24];
	int n = sizeof(buf);
	buf[--n] = '\n';
	do {
		buf[--n] = (char)('0' + tsc % 10);
		tsc /= 10;
	} while (tsc);
	long rc = sys_call3(SYS_WRITE, 1, (long)(buf + n), (long)(sizeof(buf) - n));
	sys_call3(SYS_EXIT, rc == (long)(sizeof(buf) - n) ? 0 : 1, 0, 0);
	for (;;)
		;
}
