package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/dingchat/dingchat/internal/ding"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes this package acts on (PostgreSQL's appendix A).
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeCheckViolation       = "23514"
	codeNotNullViolation     = "23502"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeUnknownUser          = "DCU01" // raised by dingchat_check_users (migration 0011)
)

// translate maps driver errors to domain kinds by SQLSTATE and error type,
// never by text.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var de *ding.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &ding.Error{Kind: ding.NotFound, Message: what + " not found", Err: err}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			return &ding.Error{Kind: ding.Conflict, Message: what + " already exists", Err: err}
		case codeForeignKeyViolation, codeCheckViolation, codeNotNullViolation:
			return &ding.Error{Kind: ding.Invalid, Message: what + " violates a constraint", Err: err}
		case codeUnknownUser:
			return ding.UnknownUser(pe.Detail)
		case codeSerializationFailure, codeDeadlockDetected:
			// still failing after maxAttempts tries
			return &ding.Error{Kind: ding.Unavailable, Message: "storage busy, try again", Err: err}
		}
		switch {
		case strings.HasPrefix(pe.Code, "22"): // data exception: a value the column cannot hold
			return &ding.Error{Kind: ding.Invalid, Message: what + " holds a value the database refuses", Err: err}
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"), // insufficient resources (too many connections, disk full)
			strings.HasPrefix(pe.Code, "57"), // operator intervention (shutdown, cancelled query)
			strings.HasPrefix(pe.Code, "58"), // system error (I/O)
			pe.Code == "55P03":               // lock not available
			return &ding.Error{Kind: ding.Unavailable, Message: "storage unavailable", Err: err}
		}
		return &ding.Error{Kind: ding.Internal, Err: err}
	}
	if unreachable(err) {
		return &ding.Error{Kind: ding.Unavailable, Message: "storage unavailable", Err: err}
	}
	return &ding.Error{Kind: ding.Internal, Err: err}
}

// unreachable reports an error of reaching the server rather than of the
// statement: the connection failed, timed out or was cancelled.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// retryable reports a transaction worth trying again: PostgreSQL aborted it
// to break a deadlock or keep transactions serializable, or it failed before
// anything reached the server.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected
	}
	return pgconn.SafeToRetry(err)
}
