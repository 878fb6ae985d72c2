// Package hugepage asks for transparent huge pages under large tables that
// are written at random places (a flow table's entries, hash indexes): a
// flood of new flows otherwise pays a page fault or two per 4 KiB and a
// TLB miss on most lookups.
package hugepage
