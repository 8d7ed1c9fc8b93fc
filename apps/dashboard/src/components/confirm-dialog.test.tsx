// @vitest-environment happy-dom
import { cleanup, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConfirmDialog } from './confirm-dialog'

afterEach(cleanup)

function Harness({ onConfirm }: { onConfirm: () => void }) {
  const [open, setOpen] = useState(false)
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Approve
      </button>
      <ConfirmDialog
        open={open}
        title="Approve as admin?"
        confirmLabel="Approve as admin"
        onConfirm={() => {
          setOpen(false)
          onConfirm()
        }}
        onCancel={() => setOpen(false)}
        testId="dialog"
      >
        Role admin
      </ConfirmDialog>
    </>
  )
}

describe('ConfirmDialog', () => {
  it('opens as a modal named by its title with focus on Cancel, and Tab wraps inside it', async () => {
    const user = userEvent.setup()
    render(<Harness onConfirm={() => {}} />)
    await user.click(screen.getByRole('button', { name: 'Approve' }))
    const dialog = screen.getByTestId('dialog') as HTMLDialogElement
    expect(dialog.open).toBe(true)
    expect(screen.getByRole('dialog', { name: 'Approve as admin?' })).toBe(dialog)
    expect(document.activeElement).toBe(screen.getByTestId('dialog-cancel'))
    await user.tab()
    expect(document.activeElement).toBe(screen.getByTestId('dialog-confirm'))
    await user.tab()
    expect(document.activeElement).toBe(screen.getByTestId('dialog-cancel'))
    await user.tab({ shift: true })
    expect(document.activeElement).toBe(screen.getByTestId('dialog-confirm'))
  })

  it('cancels without confirming and gives focus back to the button that opened it', async () => {
    const user = userEvent.setup()
    const onConfirm = vi.fn()
    render(<Harness onConfirm={onConfirm} />)
    const opener = screen.getByRole('button', { name: 'Approve' })
    await user.click(opener)
    await user.click(screen.getByTestId('dialog-cancel'))
    expect((screen.getByTestId('dialog') as HTMLDialogElement).open).toBe(false)
    expect(document.activeElement).toBe(opener)
    expect(onConfirm).not.toHaveBeenCalled()
  })

  it('confirms once on its confirm button', async () => {
    const user = userEvent.setup()
    const onConfirm = vi.fn()
    render(<Harness onConfirm={onConfirm} />)
    await user.click(screen.getByRole('button', { name: 'Approve' }))
    await user.click(screen.getByTestId('dialog-confirm'))
    expect(onConfirm).toHaveBeenCalledTimes(1)
  })
})
