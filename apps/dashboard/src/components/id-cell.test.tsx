// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { IdCell } from './id-cell'

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('IdCell', () => {
  it('holds the whole id as its only text, with the id in the tooltip', () => {
    render(<IdCell id="node-7f3a9c2e-long-id" testId="node-id" />)
    const text = screen.getByTestId('node-id')
    expect(text.textContent).toBe('node-7f3a9c2e-long-id')
    expect(text.title).toBe('node-7f3a9c2e-long-id')
    expect(text.parentElement?.textContent).toBe('node-7f3a9c2e-long-id')
  })

  it('copies the id to the clipboard and says so', async () => {
    const writeText = vi.fn(async () => {})
    vi.stubGlobal('navigator', { clipboard: { writeText } })
    render(<IdCell id="tok_abc" />)
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Copy tok_abc' }))
    })
    expect(writeText).toHaveBeenCalledWith('tok_abc')
    expect(screen.getByRole('button', { name: 'Copied tok_abc' })).toBeTruthy()
  })
})
