/* The small library every test guest links: printing and PASS/FAIL checks. */
#ifndef GUEST_H
#define GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_intrin.h"

/* Multiboot v1 information block (Multiboot spec 3.3), the fields guests read. */
struct multiboot_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

/* printf to the console through the print hypercall (one line per call is usual). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "PASS: what" or "FAIL: what"; counts failures. */
void check(bool ok, const char *what);
/* Number of failed checks so far. */
unsigned failures(void);
/* The command line has `word` as a whole, space-separated word. */
bool cmdline_has_word(const char *cmdline, const char *word);

/* The guest's main, called from entry.S; returns the number of failures. */
int guest_main(uint32_t magic, const struct multiboot_info *info);

#endif
